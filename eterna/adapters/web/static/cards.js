// One card per order: its terms, status, steps, quotes, route and fill, all as text.

import { CANCELLABLE } from "./book.js";
import { badge, clock, dateTime, facts, h, short, table, tokenName } from "./dom.js";

/** Render the card of an order; `onCancel(entry)` runs when its Cancel button is pressed. */
export function renderCard(entry, { onCancel }) {
  const order = entry.order;
  const status = entry.status();
  const steps = entry.steps();
  const routed = [...steps].reverse().find((step) => step.route);
  const quoted = [...steps].reverse().find((step) => step.quotes?.length);
  const filled =
    [...steps].reverse().find((step) => step.status === "CONFIRMED" || step.fill) ?? null;

  return h(
    "li",
    {
      class: order?.groupId ? "order oco" : "order",
      "data-order-id": entry.id,
      "data-status": status,
      "data-type": order?.type,
      "data-group-id": order?.groupId ?? null,
    },
    head(entry, status, onCancel),
    entry.note ? h("p", { class: "note", role: "status" }, entry.note) : null,
    stepsTable(steps),
    h(
      "div",
      { class: "columns" },
      routed ? routeBox(routed.route) : null,
      quoted ? quotesBox(quoted.quotes, routed?.route, order) : null,
    ),
    filled || order?.txSignature ? fillBox(filled, order) : null,
    order?.failureReason && status === "FAILED"
      ? h("p", { class: "failure" }, `failed: ${order.failureReason}`)
      : null,
  );
}

function head(entry, status, onCancel) {
  const order = entry.order;
  const cancel = CANCELLABLE.has(status)
    ? h(
        "button",
        { class: "cancel", type: "button", disabled: entry.cancelling, onclick: () => onCancel(entry) },
        entry.cancelling ? "Cancelling…" : "Cancel",
      )
    : null;
  if (!order) {
    return h("div", { class: "head" }, h("span", { class: "what" }, "order "), short(entry.id, 8), badge(status), cancel);
  }
  const pair = `${order.amountIn} ${tokenName(order.tokenIn)} → ${tokenName(order.tokenOut)}`;
  return h(
    "div",
    { class: "head" },
    h("span", { class: "type", "data-type": order.type }, order.type),
    h("span", { class: "what" }, pair),
    badge(status),
    cancel,
    h("div", { class: "terms" }, terms(order).join(" · ")),
    h(
      "div",
      { class: "meta" },
      "id ",
      h("span", { class: "mono order-id", title: order.id }, order.id.slice(0, 8)),
      ` · placed ${dateTime(order.createdAt)}`,
      order.clientOrderId ? ` · client id ${order.clientOrderId}` : "",
      // Both legs of an OCO group were placed together: they sit side by side, each naming it.
      order.groupId
        ? h("span", { class: "group", title: order.groupId }, ` · OCO group ${order.groupId.slice(0, 8)}: the first leg to fire cancels the other`)
        : "",
    ),
  );
}

function terms(order) {
  const out = tokenName(order.tokenOut);
  const list = [`slippage ${order.slippageBps} bps`];
  const per = `${out} per ${tokenName(order.tokenIn)}`;
  if (order.limitPrice) list.unshift(`limit ${order.limitPrice} ${per}`);
  if (order.triggerPrice) list.unshift(`trigger ${order.triggerPrice} ${per}`);
  if (order.trailBps) {
    const best = order.bestPrice ? `, best so far ${order.bestPrice} ${per}` : "";
    list.unshift(`trails ${order.trailBps} bps${best}`);
  }
  if (order.twap) {
    const done = order.progress;
    const average = done?.averagePrice ? `, ${done.averagePrice} ${per} on average` : "";
    if (done) list.unshift(`${done.slicesDone} of ${order.twap.slices} slices done (${done.slicesFilled} filled${average})`);
    list.unshift(`${order.twap.slices} slices over ${order.twap.durationSeconds} s`);
  }
  if (order.parentId) list.unshift(`slice ${order.sliceIndex + 1} of TWAP ${order.parentId.slice(0, 8)}`);
  if (order.type === "SNIPER" && !order.tokenOut.symbol) list.unshift(`waits for mint ${order.tokenOut.mint}`);
  if (order.expiresAt) list.push(`expires ${dateTime(order.expiresAt)}`);
  return list;
}

function stepsTable(steps) {
  const rows = steps.map((step) =>
    h(
      "tr",
      { "data-seq": step.seq, "data-status": step.status },
      h("td", {}, step.seq),
      h("td", {}, badge(step.status)),
      h("td", { class: "mono" }, clock(step.at)),
      h("td", { class: "message" }, step.message, step.error ? h("span", { class: "error" }, ` (${step.error})`) : null),
    ),
  );
  if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "waiting for the first step…")));
  return h("section", { class: "box steps-box" }, h("h3", {}, "Steps"), table("steps", ["seq", "status", "time", "message"], rows));
}

function routeBox(route) {
  const legs = route.legs.map((leg) =>
    h(
      "tr",
      { "data-venue": leg.venue },
      h("td", {}, leg.venue),
      h("td", {}, short(leg.pool)),
      h("td", { class: "num" }, `${leg.amountIn} ${tokenName(leg.tokenIn)}`),
      h("td", { class: "num" }, `${leg.amountOut} ${tokenName(leg.tokenOut)}`),
      h("td", { class: "num" }, `${leg.fee} ${tokenName(leg.tokenIn)}`),
    ),
  );
  const out = tokenName(route.legs.at(-1)?.tokenOut);
  return h(
    "section",
    { class: "box route-box" },
    h("h3", {}, "Route"),
    table("legs", ["venue", "pool", "in#", "out#", "fee#"], legs),
    facts([
      ["expected", `${route.amountOut} ${out}`, "expected"],
      ["min out", `${route.minAmountOut} ${out}`, "minAmountOut"],
      ["price impact", `${route.priceImpactBps} bps`, "priceImpactBps"],
    ]),
  );
}

function quotesBox(quotes, route, order) {
  const [tokenIn, tokenOut] = [tokenName(order?.tokenIn), tokenName(order?.tokenOut)];
  const chosen = new Set((route?.legs ?? []).map((leg) => leg.pool));
  const rows = quotes.map((quote) =>
    h(
      "tr",
      { "data-venue": quote.venue, class: chosen.has(quote.pool) ? "chosen" : null },
      h("td", {}, quote.venue, chosen.has(quote.pool) ? h("span", { class: "tag" }, "used") : null),
      h("td", {}, short(quote.pool)),
      h("td", { class: "num" }, `${quote.amountOut} ${tokenOut}`),
      h("td", { class: "num" }, `${quote.fee} ${tokenIn}`),
      h("td", { class: "num" }, `${quote.priceImpactBps} bps`),
    ),
  );
  return h(
    "section",
    { class: "box quotes-box" },
    h("h3", { title: "the best single pool of each venue for the whole amount" }, "Venue quotes"),
    table("quotes", ["venue", "pool", "out#", "fee#", "impact#"], rows),
  );
}

function fillBox(step, order) {
  const out = tokenName(order?.tokenOut);
  const amountOut = step?.amountOut ?? order?.amountOut;
  const price = step?.executedPrice ?? order?.executedPrice;
  const signature = step?.txSignature ?? order?.txSignature;
  // A limit order filling in parts: how much of it has traded (amounts are cumulative).
  const filled =
    order && order.allOrNone === false
      ? `${order.filledAmountIn} of ${order.amountIn} ${tokenName(order.tokenIn)}`
      : null;
  return h(
    "section",
    { class: "box fill" },
    h("h3", {}, "Fill"),
    facts([
      ["filled", filled, "filledAmountIn"],
      ["received", amountOut ? `${amountOut} ${out}` : null, "amountOut"],
      ["price", price ? `${price} ${out} per ${tokenName(order?.tokenIn)}` : null, "executedPrice"],
      ["tx", signature ? h("span", { class: "mono sig" }, signature) : null, "txSignature"],
    ]),
  );
}
