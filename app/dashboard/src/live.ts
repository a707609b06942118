/**
 * The page's one socket.io connection and the run subscriptions on it. socket.io reconnects by
 * itself but the server forgets a dropped socket's rooms, so every (re)connect subscribes again,
 * and the full 'run:state' that answers replaces whatever the page had: events missed while
 * disconnected are never replayed.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientEventView, RoundMetricsView, RunListItem, RunState, RunStatus, WorkerView } from '../../api/api-types.js';
import { applyClients, applyLog, applyRound, applyStatus, applyWorker, isActive } from './run-state.js';

interface ServerEvents {
  runs: (runs: RunListItem[]) => void;
  'run:state': (state: RunState) => void;
  'run:round': (message: { runId: string; metrics: RoundMetricsView }) => void;
  'run:clients': (message: { runId: string; events: ClientEventView[] }) => void;
  'run:worker': (message: { runId: string; worker: WorkerView }) => void;
  'run:log': (message: { runId: string; lines: string[] }) => void;
  'run:status': (message: { runId: string; status: RunStatus; summary: Record<string, unknown> | null; error?: string }) => void;
}

interface ClientEvents {
  subscribe: (runId: string, ack: (reply: RunState | { error: string }) => void) => void;
  unsubscribe: (runId: string) => void;
}

export type LiveSocket = Socket<ServerEvents, ClientEvents>;

let socket: LiveSocket | null = null;

export function liveSocket(): LiveSocket {
  socket ??= io({ reconnectionDelayMax: 2000 });
  return socket;
}

/** Connection state for the header's indicator; called now and on every change. */
export function onConnection(listener: (connected: boolean) => void): () => void {
  const s = liveSocket();
  const up = () => listener(true);
  const down = () => listener(false);
  s.on('connect', up);
  s.on('disconnect', down);
  s.io.on('reconnect_attempt', down);
  listener(s.connected);
  return () => {
    s.off('connect', up);
    s.off('disconnect', down);
    s.io.off('reconnect_attempt', down);
  };
}

export interface RunSubscription {
  close(): void;
}

export interface RunListener {
  /** After every change; `state` is the same object, changed in place. */
  changed(state: RunState): void;
  /** The run is unknown to the server (or it refused the subscription). */
  failed(error: string): void;
}

/**
 * `reload` reads the run's full state over REST; it is used once the run ends, because the
 * status message lacks what comes last (hasReport, the final figures).
 */
export function subscribeRun(runId: string, listener: RunListener, reload: (id: string) => Promise<RunState>): RunSubscription {
  const s = liveSocket();
  let state: RunState | null = null;
  let closed = false;

  const replace = (next: RunState) => {
    if (closed || next.id !== runId) return;
    state = next;
    listener.changed(state);
  };
  const subscribe = () =>
    s.emit('subscribe', runId, (reply) => {
      if ('error' in reply && typeof reply.error === 'string' && !('id' in reply)) listener.failed(reply.error);
      else replace(reply as RunState);
    });
  // Messages of other runs are ignored: a socket may briefly be in two rooms while the page
  // switches runs. Before the first full state there is nothing to apply them to, and that state
  // will include them.
  const handler =
    <M extends { runId: string }>(apply: (state: RunState, message: M) => void) =>
    (message: M) => {
      if (message.runId !== runId || state === null) return;
      apply(state, message);
      listener.changed(state);
    };
  const onRound = handler<{ runId: string; metrics: RoundMetricsView }>((st, m) => applyRound(st, m.metrics));
  const onClients = handler<{ runId: string; events: ClientEventView[] }>((st, m) => applyClients(st, m.events));
  const onWorker = handler<{ runId: string; worker: WorkerView }>((st, m) => applyWorker(st, m.worker));
  const onLog = handler<{ runId: string; lines: string[] }>((st, m) => applyLog(st, m.lines));
  const onStatus = handler<Parameters<ServerEvents['run:status']>[0]>((st, m) => {
    applyStatus(st, m.status, m.summary, m.error);
    if (!isActive(m.status)) void reloadEnded(3);
  });
  const reloadEnded = async (tries: number): Promise<void> => {
    try {
      const full = await reload(runId);
      replace(full);
      // A server may write the report a moment after it reports the end.
      if (!full.hasReport && full.status !== 'failed' && tries > 1) setTimeout(() => void reloadEnded(tries - 1), 1000);
    } catch {
      // The live state stays; only the report link may be missing.
    }
  };

  s.on('connect', subscribe);
  s.on('run:state', replace);
  s.on('run:round', onRound);
  s.on('run:clients', onClients);
  s.on('run:worker', onWorker);
  s.on('run:log', onLog);
  s.on('run:status', onStatus);
  if (s.connected) subscribe();
  // Something to show before the socket is up (or if it never comes up); the subscription's
  // state, whenever it comes, wins.
  reload(runId).then(
    (first) => state === null && replace(first),
    (error: Error) => state === null && listener.failed(error.message),
  );

  return {
    close() {
      closed = true;
      s.off('connect', subscribe);
      s.off('run:state', replace);
      s.off('run:round', onRound);
      s.off('run:clients', onClients);
      s.off('run:worker', onWorker);
      s.off('run:log', onLog);
      s.off('run:status', onStatus);
      if (s.connected) s.emit('unsubscribe', runId);
    },
  };
}

/** The run list: the 'runs' broadcast, plus a REST read on every (re)connect for what was missed. */
export function watchRuns(load: () => Promise<RunListItem[]>, changed: (runs: RunListItem[]) => void, failed: (error: Error) => void): () => void {
  const s = liveSocket();
  const reload = () => void load().then(changed, failed);
  s.on('runs', changed);
  s.on('connect', reload);
  reload();
  return () => {
    s.off('runs', changed);
    s.off('connect', reload);
  };
}
