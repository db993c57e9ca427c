// Exact decimal arithmetic on Eterna's amount strings ("1.25"), with BigInt: never a float.

/** An exact decimal: units / 10^scale. */
export interface Exact {
  readonly units: bigint;
  readonly scale: number;
}

const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Parse a plain decimal string; throw on anything else (exponents, blanks, floats' noise). */
export function parseDecimal(text: string): Exact {
  const match = PLAIN_DECIMAL.exec(text);
  if (match === null) throw new Error(`not a plain decimal: ${JSON.stringify(text)}`);
  const [, sign = "", whole = "0", fraction = ""] = match;
  return { units: BigInt(`${sign}${whole}${fraction}`), scale: fraction.length };
}

function rescale(value: Exact, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Compare two decimals: negative, zero or positive as a is below, equal to or above b. */
export function compare(a: Exact, b: Exact): number {
  const scale = Math.max(a.scale, b.scale);
  const [x, y] = [rescale(a, scale), rescale(b, scale)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Add decimals exactly. */
export function sum(values: readonly Exact[]): Exact {
  const scale = Math.max(0, ...values.map((v) => v.scale));
  return { units: values.reduce((total, v) => total + rescale(v, scale), 0n), scale };
}

/** Return how many decimal places a decimal carries, trailing zeros aside. */
export function decimalsOf(value: Exact): number {
  let { units, scale } = value;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return scale;
}

/** Return out / in rounded down to `places` decimals (both positive), as the server does. */
export function ratioDown(amountOut: Exact, amountIn: Exact, places: number): Exact {
  const numerator = amountOut.units * 10n ** BigInt(amountIn.scale + places);
  const denominator = amountIn.units * 10n ** BigInt(amountOut.scale);
  return { units: numerator / denominator, scale: places };
}
