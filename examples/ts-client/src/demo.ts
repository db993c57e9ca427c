// Place a batch of market orders, follow them live, read them back and check what came.
//
//   node dist/demo.js --url http://127.0.0.1:8000/graphql --token "$TOKEN"
//
// ETERNA_URL and ETERNA_TOKEN stand in for the options. It exits 1 when any check fails (an
// order refused, not CONFIRMED, a gap in its seqs, amounts that do not add up) and 2 when the
// server cannot be used at all.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

import { compare, decimalsOf, parseDecimal, ratioDown, sum } from "./decimal.js";
import { EternaClient } from "./eterna.js";
import {
  type EventFieldsFragment,
  OrderDocument,
  type OrderFieldsFragment,
  OrderEventsDocument,
  type OrderQuery,
  OrdersDocument,
  type OrdersQuery,
  PlaceOrdersDocument,
} from "./generated/graphql.js";
import type { OrderInput, OrderStatus } from "./generated/schema.js";

type StoredOrder = NonNullable<OrderQuery["order"]>;

const TERMINAL: ReadonlySet<OrderStatus> = new Set(["CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"]);
const PRICE_PLACES = 18; // the server rounds executedPrice down to 18 places
// [tokenIn, tokenOut, amountIn]: direct pools and a pair that may route in two hops.
const BATCH: ReadonlyArray<readonly [string, string, string]> = [
  ["SOL", "USDC", "0.5"],
  ["USDC", "SOL", "20"],
  ["SOL", "BONK", "0.1"],
  ["USDC", "JUP", "15"],
  ["SOL", "USDT", "0.25"],
];

/** What the demo saw, and every check that failed. */
class Report {
  readonly failures: string[] = [];
  readonly lines: string[] = [];

  check(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }
}

/** Return an order's events after afterSeq: history, then live, until the server completes. */
async function follow(
  client: EternaClient,
  orderId: string,
  afterSeq = 0,
): Promise<EventFieldsFragment[]> {
  const events: EventFieldsFragment[] = [];
  for await (const item of client.subscribe(OrderEventsDocument, { orderId, afterSeq })) {
    events.push(item.orderEvents);
  }
  return events;
}

/** Page through the caller's market orders (newest first) until every id is seen. */
async function findListed(
  client: EternaClient,
  ids: ReadonlySet<string>,
  page: number,
): Promise<Map<string, OrderFieldsFragment>> {
  const found = new Map<string, OrderFieldsFragment>();
  let after: string | null = null;
  for (let i = 0; i < 50; i += 1) {
    // a bound, in case the history is far longer than this run
    const answer: OrdersQuery = await client.request(OrdersDocument, {
      first: page,
      after,
      type: "MARKET",
    });
    const { orders } = answer;
    for (const { node } of orders.edges) if (ids.has(node.id)) found.set(node.id, node);
    if (found.size === ids.size || !orders.pageInfo.hasNextPage) break;
    after = orders.pageInfo.endCursor;
  }
  return found;
}

/** Reject after ms milliseconds unless the promise settles first. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Check one order's stream, its stored history and its amounts against each other. */
function checkOrder(
  report: Report,
  placed: OrderInput,
  order: StoredOrder | null,
  streamed: EventFieldsFragment[],
  listed: OrderFieldsFragment | undefined,
): void {
  const name = placed.clientOrderId ?? "?";
  const seqs = streamed.map((e) => e.seq);
  report.check(
    seqs.every((seq, i) => seq === i + 1),
    `${name}: streamed seqs ${seqs.join(",")} have gaps`,
  );
  const last = streamed.at(-1);
  report.check(last !== undefined && TERMINAL.has(last.status), `${name}: stream ended early`);
  if (order === null || last === undefined) {
    report.check(false, `${name}: order(id) returned null or nothing streamed`);
    return;
  }
  const history = order.events.map((e) => `${e.seq}:${e.status}`).join(" ");
  report.check(
    history === streamed.map((e) => `${e.seq}:${e.status}`).join(" "),
    `${name}: stored history ${history} differs from the stream`,
  );
  if (order.status !== "CONFIRMED") {
    report.check(false, `${name}: ended ${order.status} (${order.failureReason ?? "no reason"})`);
    return;
  }
  checkAmounts(report, name, placed, order, last);
  report.check(
    listed?.status === order.status && listed.amountOut === order.amountOut,
    `${name}: orders() does not list it as CONFIRMED with amountOut ${order.amountOut}`,
  );
}

/** Check that a confirmed order's amounts agree with its input, route and last event. */
function checkAmounts(
  report: Report,
  name: string,
  placed: OrderInput,
  order: StoredOrder,
  last: EventFieldsFragment,
): void {
  const amountIn = parseDecimal(order.amountIn);
  report.check(compare(amountIn, parseDecimal(placed.amountIn)) === 0, `${name}: amountIn changed`);
  report.check(
    last.amountOut === order.amountOut &&
      last.executedPrice === order.executedPrice &&
      last.txSignature === order.txSignature,
    `${name}: the CONFIRMED event and the order disagree on amountOut, price or signature`,
  );
  const { route } = order;
  if (order.amountOut === null || order.executedPrice === null || route === null) {
    report.check(false, `${name}: CONFIRMED without amountOut, executedPrice or route`);
    return;
  }
  const out = parseDecimal(order.amountOut);
  report.check(
    compare(out, parseDecimal(route.minAmountOut)) >= 0,
    `${name}: got ${order.amountOut}, below ${route.minAmountOut}`,
  );
  report.check(
    decimalsOf(out) <= order.tokenOut.decimals,
    `${name}: amountOut ${order.amountOut} has more decimals than ${order.tokenOut.symbol} allows`,
  );
  const firstHop = sum(
    route.legs
      .filter((leg) => leg.tokenIn.mint === order.tokenIn.mint)
      .map((leg) => parseDecimal(leg.amountIn)),
  );
  report.check(compare(firstHop, amountIn) === 0, `${name}: route legs do not spend amountIn`);
  report.check(
    compare(parseDecimal(order.executedPrice), ratioDown(out, amountIn, PRICE_PLACES)) === 0,
    `${name}: executedPrice ${order.executedPrice} is not amountOut / amountIn`,
  );
  const venues = [...new Set(route.legs.map((leg) => leg.venue))].sort().join("+");
  report.lines.push(
    `  ${name}  ${order.amountIn} ${order.tokenIn.symbol} -> ${order.amountOut} ` +
      `${order.tokenOut.symbol}  via ${venues}  seq 1..${last.seq}  ${order.status}`,
  );
}

/** Place count orders in one batch, follow them to the end and check everything. */
async function run(client: EternaClient, count: number, waitMs: number): Promise<Report> {
  const report = new Report();
  const runId = randomUUID().slice(0, 8);
  const inputs: OrderInput[] = Array.from({ length: count }, (_, i) => {
    const [tokenIn, tokenOut, amountIn] = BATCH[i % BATCH.length] ?? ["SOL", "USDC", "0.5"];
    const clientOrderId = `demo-ts-${runId}-${i + 1}`;
    return { type: "MARKET", tokenIn, tokenOut, amountIn, slippageBps: 100, clientOrderId };
  });
  const { placeOrders } = await client.request(PlaceOrdersDocument, { inputs });
  const placed = new Map<string, OrderInput>();
  placeOrders.forEach((result, i) => {
    const sent = inputs[i];
    if (sent === undefined) return;
    if (result.__typename === "OrderRejected") {
      report.check(false, `${sent.clientOrderId}: refused ${result.code}: ${result.message}`);
    } else {
      placed.set(result.order.id, sent);
    }
  });
  report.lines.push(`placed ${placed.size} of ${count} orders in one placeOrders call`);

  const ids = [...placed.keys()];
  let streams: EventFieldsFragment[][];
  try {
    streams = await within(waitMs, Promise.all(ids.map((id) => follow(client, id))));
  } catch (error) {
    report.check(false, `the orders were not all terminal: ${String(error)}`);
    return report;
  }
  const listed = await findListed(client, new Set(ids), Math.max(2, Math.floor(count / 2)));
  for (const [i, id] of ids.entries()) {
    const { order } = await client.request(OrderDocument, { id });
    const sent = placed.get(id);
    if (sent !== undefined) checkOrder(report, sent, order, streams[i] ?? [], listed.get(id));
  }

  const [firstId] = ids;
  const firstStream = streams[0] ?? [];
  if (firstId !== undefined && firstStream.length > 0) {
    // Resuming after a seen seq replays exactly what came after it.
    const tailFrom = Math.max(0, firstStream.length - 2);
    const resumed = (await within(waitMs, follow(client, firstId, tailFrom))).map((e) => e.seq);
    const expected = firstStream.slice(tailFrom).map((e) => e.seq);
    report.check(
      resumed.join(",") === expected.join(","),
      `resuming with afterSeq=${tailFrom} gave seqs ${resumed.join(",")}`,
    );
  }
  const events = streams.reduce((total, s) => total + s.length, 0);
  report.lines.push(`followed ${events} events over ${streams.length} orderEvents subscriptions`);
  return report;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.ETERNA_URL ?? "http://127.0.0.1:8000/graphql" },
      token: { type: "string", default: process.env.ETERNA_TOKEN ?? "" },
      orders: { type: "string", default: "5" },
      timeout: { type: "string", default: "60" },
    },
  });
  const count = Number(values.orders);
  const waitMs = Number(values.timeout) * 1000;
  if (!values.token) {
    console.error("give --token or ETERNA_TOKEN (`eterna token USER` prints one)");
    return 2;
  }
  if (!Number.isInteger(count) || count < 1 || count > 100 || !(waitMs > 0)) {
    console.error("--orders must be 1..100 and --timeout a positive number of seconds");
    return 2;
  }
  const client = new EternaClient(values.url, values.token);
  let report: Report;
  try {
    report = await run(client, count, waitMs);
  } catch (error) {
    console.error(`demo could not use ${values.url}: ${String(error)}`);
    return 2;
  } finally {
    await client.close();
  }
  console.log(report.lines.join("\n"));
  if (report.failures.length > 0) {
    console.log(`FAILED: ${report.failures.length} check(s)\n  ${report.failures.join("\n  ")}`);
    return 1;
  }
  console.log("all checks passed");
  return 0;
}

process.exitCode = await main();
