// The live order page: the token, the order form, and the list of orders kept live.

import { Http, MY_EVENTS, ORDERS, PLACE, TOKENS, describeEnd, describeRefusal, openSocket } from "./api.js";
import { OrderBook } from "./book.js";
import { renderCard } from "./cards.js";
import { fill, h } from "./dom.js";

const TOKEN_KEY = "eterna.token";
const LISTED = 50;
const $ = (id) => document.getElementById(id);

/** Move a `#token=...` fragment into storage and out of the address bar and history. */
function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    localStorage.setItem(TOKEN_KEY, token.trim());
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

function setConnection(state, text) {
  const pill = $("connection");
  pill.dataset.state = state;
  pill.textContent = text;
}

/** The orders of one token: its websocket, its book, its cards. */
class Session {
  constructor(token) {
    this.http = new Http(token);
    this.cards = new Map();
    this.socket = openSocket(token, (state, detail) => this.onConnection(state, detail));
    this.book = new OrderBook({
      http: this.http,
      socket: this.socket,
      onChange: (entry) => this.show(entry),
    });
    fill($("order-list"));
    this.notice("Loading your orders…");
    // Live steps first, then the listing: an order placed in between is in one or the other.
    this.stopLive = this.socket.subscribe(
      { query: MY_EVENTS },
      {
        next: (result) => {
          if (result.errors?.length) setConnection("refused", describeEnd(result.errors));
          if (result.data?.myOrderEvents) this.book.onEvent(result.data.myOrderEvents);
        },
        error: (err) => setConnection("refused", describeEnd(err)),
        complete: () => {},
      },
    );
    this.loadOrders();
  }

  async loadOrders() {
    try {
      const { orders } = await this.http.run(ORDERS, { first: LISTED });
      for (const { node } of orders.edges) this.book.addOrder(node, { replay: true });
      this.notice(orders.edges.length ? null : "No orders yet: place one with the form.");
    } catch (err) {
      this.notice(`Could not list your orders: ${err.message}`);
    }
  }

  onConnection(state, detail) {
    if (state === "connecting") setConnection("connecting", "connecting…");
    else if (state === "live") {
      setConnection("live", "live");
      if (detail.wasRetry) this.book.resync();
    } else if (state === "closed" && $("connection").dataset.state !== "refused") {
      const reason = detail.code === 4403 ? describeRefusal(detail.reason) : `disconnected (${detail.code}), retrying`;
      setConnection(detail.code === 4403 ? "refused" : "closed", reason);
    }
  }

  notice(text) {
    const notice = $("notice");
    notice.hidden = !text;
    if (text) notice.textContent = text;
  }

  /** Draw or redraw the card of an order, keeping the list newest first. */
  show(entry) {
    const card = renderCard(entry, { onCancel: (e) => this.book.cancel(e) });
    card.dataset.createdAt = entry.createdAt();
    const old = this.cards.get(entry.id);
    this.cards.set(entry.id, card);
    if (old) {
      old.replaceWith(card);
      return;
    }
    this.notice(null);
    const list = $("order-list");
    const later = [...list.children].find((other) => other.dataset.createdAt < card.dataset.createdAt);
    list.insertBefore(card, later ?? null);
  }

  async place(input) {
    const { placeOrder } = await this.http.run(PLACE, { input });
    if (placeOrder.__typename === "OrderPlaced") this.book.addOrder(placeOrder.order, { placedHere: true });
    return placeOrder;
  }

  close() {
    this.stopLive();
    this.book.close();
    this.socket.dispose();
  }
}

// -- the form -----------------------------------------------------------------------------

const FIELDS = ["tokenIn", "tokenOut", "tokenOutMint", "amountIn", "slippageBps", "limitPrice",
  "triggerPrice", "trailBps", "minLiquidity", "maxPriceImpactBps", "expiresAt", "slices",
  "durationSeconds", "jitterBps"];
const STOPS = ["STOP_LOSS", "TAKE_PROFIT", "TRAILING_STOP"];

/** A problem the page finds before sending, shown like the server's rejections. */
class FormProblem extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function orderType() {
  return document.querySelector('input[name="type"]:checked').value;
}

function showTypeFields() {
  const type = orderType();
  for (const node of document.querySelectorAll("[data-types]")) {
    node.hidden = !node.dataset.types.split(" ").includes(type);
  }
}

function text(id) {
  return $(id).value.trim();
}

function whole(id) {
  const value = text(id);
  if (value === "") return null;
  if (!/^-?\d+$/.test(value)) throw new FormProblem(id, `${id} must be a whole number`);
  return Number(value);
}

/** Read the form into an OrderInput; only the fields of the chosen type are sent. */
function readForm() {
  const type = orderType();
  const mint = type === "SNIPER" ? text("tokenOutMint") : "";
  const input = { type, tokenIn: $("tokenIn").value, tokenOut: mint || $("tokenOut").value };
  input.amountIn = text("amountIn");
  if (!input.amountIn) throw new FormProblem("amountIn", "amountIn is required");
  const slippage = whole("slippageBps");
  if (slippage !== null) input.slippageBps = slippage;
  const floored = type === "LIMIT" || type === "TWAP" || STOPS.includes(type);
  if (floored && text("limitPrice")) input.limitPrice = text("limitPrice");
  if ((type === "STOP_LOSS" || type === "TAKE_PROFIT") && text("triggerPrice")) {
    input.triggerPrice = text("triggerPrice");
  }
  if (type === "TRAILING_STOP") {
    const trail = whole("trailBps");
    if (trail !== null) input.trailBps = trail;
  }
  if (type === "SNIPER") {
    if (text("minLiquidity")) input.minLiquidity = text("minLiquidity");
    const impact = whole("maxPriceImpactBps");
    if (impact !== null) input.maxPriceImpactBps = impact;
  }
  if (type === "TWAP") {
    for (const id of ["slices", "durationSeconds", "jitterBps"]) {
      const value = whole(id);
      if (value !== null) input[id] = value;
    }
  }
  if (type !== "MARKET" && type !== "TWAP" && text("expiresAt")) {
    const at = new Date(text("expiresAt"));
    if (Number.isNaN(at.getTime())) throw new FormProblem("expiresAt", "expiresAt is not a date");
    input.expiresAt = at.toISOString();
  }
  return input;
}

function showRejection(rejection) {
  const box = $("rejection");
  for (const id of FIELDS) $(id).removeAttribute("aria-invalid");
  document.getElementById("type").removeAttribute("aria-invalid");
  if (!rejection) {
    box.hidden = true;
    fill(box);
    return;
  }
  let field = rejection.field;
  if (field === "tokenOut" && orderType() === "SNIPER" && text("tokenOutMint")) field = "tokenOutMint";
  document.getElementById(field ?? "")?.setAttribute("aria-invalid", "true");
  fill(
    box,
    h("strong", { class: "code" }, rejection.code),
    h("span", { class: "message" }, rejection.message),
    rejection.field ? h("span", { class: "field" }, `field: ${rejection.field}`) : null,
    rejection.retryAfterSeconds ? h("span", { class: "field" }, `retry in ${rejection.retryAfterSeconds} s`) : null,
  );
  box.hidden = false;
}

function fillTokens(tokens) {
  for (const [id, preferred] of [["tokenIn", "SOL"], ["tokenOut", "USDC"]]) {
    const select = $(id);
    fill(select, tokens.map((t) => h("option", { value: t.symbol ?? t.mint, title: t.mint }, t.symbol ?? t.mint)));
    if (tokens.some((t) => t.symbol === preferred)) select.value = preferred;
  }
}

// -- start --------------------------------------------------------------------------------

let session = null;

function connect(token) {
  session?.close();
  session = null;
  if (!token) {
    setConnection("idle", "no token");
    fill($("order-list"));
    $("notice").hidden = false;
    $("notice").textContent = "Paste the token `eterna serve` prints, or open the link it prints.";
    return;
  }
  session = new Session(token);
}

async function main() {
  const token = takeTokenFromFragment();
  $("token").value = token;
  showTypeFields();
  for (const radio of document.querySelectorAll('input[name="type"]')) radio.addEventListener("change", showTypeFields);

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim().replace(/^Bearer\s+/i, "");
    localStorage.setItem(TOKEN_KEY, value);
    $("token").value = value;
    connect(value);
  });

  $("order-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("place");
    if (!session) {
      showRejection({ code: "UNAUTHENTICATED", message: "paste a token first" });
      return;
    }
    button.disabled = true;
    try {
      const result = await session.place(readForm());
      showRejection(result.__typename === "OrderRejected" ? result : null);
    } catch (err) {
      if (err instanceof FormProblem) showRejection({ code: "INVALID_INPUT", message: err.message, field: err.field });
      else showRejection({ code: err.code ?? "ERROR", message: err.message });
    } finally {
      button.disabled = false;
    }
  });

  try {
    fillTokens((await new Http(token).run(TOKENS)).tokens);
  } catch (err) {
    showRejection({ code: err.code ?? "ERROR", message: `could not read the tokens: ${err.message}` });
  }
  connect(token);
}

main();
