/** What the router holds: a view draws into the page and undoes its subscriptions on destroy. */
export interface View {
  destroy(): void;
}
