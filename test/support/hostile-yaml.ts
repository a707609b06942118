/** YAML that attacks its parser, for the tests that it is refused as a bad scenario. */

/**
 * "Billion laughs": nine levels of nine aliases each, 9⁹ strings once expanded, in under 400
 * bytes. The last level is the scenario's name, so a parser that expanded it would try to use it.
 */
export function yamlAliasBomb(): string {
  const names = 'abcdefghi';
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level < names.length; level++) {
    const name = names[level]!;
    levels.push(
      `${name}: &${name} [${Array(9)
        .fill(`*${names[level - 1]!}`)
        .join(', ')}]`,
    );
  }
  return `${levels.join('\n')}\nname: *i\n`;
}
