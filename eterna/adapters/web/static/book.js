// The orders on the page and their steps, kept gap-free by seq.
//
// `myOrderEvents` brings every live step of the user's orders. History comes from
// `orderEvents(orderId, afterSeq)`: for each order listed on load, for an order whose steps
// show a gap (seq n+2 arrived before n+1), and for every open order after a reconnect. Such
// a replay streams the order's history, then its live steps; once it has been quiet for a
// moment it is closed, since `myOrderEvents` carries the live steps from then on. Replays
// run a few at a time: the server allows a bounded number of operations per websocket.

import { CANCEL, ORDER, ORDER_EVENTS, describeEnd } from "./api.js";

export const TERMINAL = new Set(["CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"]);
export const CANCELLABLE = new Set(["PENDING", "WAITING"]);
const MAX_REPLAYS = 8;
const REPLAY_QUIET_MS = 2_000;
// Before its first step a replay waits longer: the socket may still be connecting.
const REPLAY_FIRST_MS = 5_000;
// A new order whose first steps raced the live subscription's start shows none: replay it.
const FIRST_STEP_GRACE_MS = 3_000;
const RETRY_MS = 1_000;

/** One order as the page knows it. */
class Entry {
  constructor(id) {
    this.id = id;
    this.order = null;
    this.events = new Map();
    this.replay = null;
    this.queued = false;
    this.cancelling = false;
    this.note = null;
  }

  /** Steps in seq order. */
  steps() {
    return [...this.events.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The highest seq up to which no step is missing. */
  contiguous() {
    let seq = 0;
    while (this.events.has(seq + 1)) seq += 1;
    return seq;
  }

  /** The status of the latest step, or of the order as read, before any step arrived. */
  status() {
    let latest = null;
    for (const event of this.events.values()) if (!latest || event.seq > latest.seq) latest = event;
    return latest ? latest.status : (this.order?.status ?? "PENDING");
  }

  /** When the order was placed, for sorting newest first. */
  createdAt() {
    return this.order?.createdAt ?? this.events.get(1)?.at ?? new Date().toISOString();
  }
}

export class OrderBook {
  constructor({ http, socket, onChange }) {
    this.http = http;
    this.socket = socket;
    this.onChange = onChange;
    this.entries = new Map();
    this.queue = [];
    this.active = 0;
    this.closed = false;
  }

  /** Take in an order read from the server (a listing, a placement or a look-up). */
  addOrder(order, { replay = false, placedHere = false } = {}) {
    const entry = this._entry(order.id);
    entry.order = { ...entry.order, ...order };
    if (replay) this.replay(entry);
    if (placedHere) {
      setTimeout(() => {
        if (!this.closed && entry.events.size === 0) this.replay(entry);
      }, FIRST_STEP_GRACE_MS);
    }
    this.onChange(entry);
    return entry;
  }

  /** Take in one step from either subscription; duplicates are dropped by seq. */
  onEvent(event) {
    if (this.closed) return;
    const known = this.entries.has(event.orderId);
    const entry = this._entry(event.orderId);
    if (!known) this._lookUp(entry);
    if (entry.events.has(event.seq)) return;
    entry.events.set(event.seq, event);
    if (entry.contiguous() < event.seq) this.replay(entry);
    // The final order carries what steps do not: a failure reason, a sniper's learned symbol;
    // after a part filled, how much has filled.
    else if (known && (event.fill || this._ends(entry, event))) {
      this._lookUp(entry);
    }
    this.onChange(entry);
  }

  _ends(entry, event) {
    return TERMINAL.has(event.status) && !TERMINAL.has(entry.order?.status);
  }

  /** Replay an order's steps after the last contiguous one (queued when many run). */
  replay(entry) {
    if (this.closed || entry.replay || entry.queued) return;
    entry.queued = true;
    this.queue.push(entry);
    this._pump();
  }

  /** After a reconnect, catch up every order that may have moved meanwhile. */
  resync() {
    for (const entry of this.entries.values()) {
      if (!TERMINAL.has(entry.status())) this.replay(entry);
    }
  }

  /** Ask the server to cancel; a refusal is shown on the order. */
  async cancel(entry) {
    entry.cancelling = true;
    entry.note = null;
    this.onChange(entry);
    try {
      const { cancelOrder } = await this.http.run(CANCEL, { id: entry.id });
      if (cancelOrder.__typename === "CancelRejected") {
        entry.note = `cancel refused: ${cancelOrder.code}: ${cancelOrder.message}`;
      }
    } catch (err) {
      entry.note = `cancel failed: ${err.message}`;
    } finally {
      entry.cancelling = false;
      this.onChange(entry);
    }
  }

  close() {
    this.closed = true;
    for (const entry of this.entries.values()) entry.replay?.dispose();
    this.queue = [];
  }

  _entry(id) {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = new Entry(id);
      this.entries.set(id, entry);
    }
    return entry;
  }

  async _lookUp(entry) {
    try {
      const { order } = await this.http.run(ORDER, { id: entry.id });
      if (order) this.addOrder(order);
    } catch (err) {
      entry.note = `could not read the order: ${err.message}`;
      this.onChange(entry);
    }
  }

  _pump() {
    while (!this.closed && this.active < MAX_REPLAYS && this.queue.length) {
      const entry = this.queue.shift();
      entry.queued = false;
      this._start(entry);
    }
  }

  _start(entry) {
    this.active += 1;
    let quiet = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      entry.replay = null;
      this.active -= 1;
      this._pump();
    };
    const hush = (wait = REPLAY_QUIET_MS) => {
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        dispose();
        finish();
      }, wait);
    };
    const variables = { orderId: entry.id, afterSeq: entry.contiguous() };
    const dispose = this.socket.subscribe(
      { query: ORDER_EVENTS, variables },
      {
        next: (result) => {
          if (result.errors?.length) {
            entry.note = describeEnd(result.errors);
            this.onChange(entry);
          }
          if (result.data?.orderEvents) this.onEvent(result.data.orderEvents);
          hush();
        },
        error: (err) => {
          finish();
          const reason = describeEnd(err);
          if (/limit reached/i.test(reason)) {
            setTimeout(() => this.replay(entry), RETRY_MS);
            return;
          }
          entry.note = `history: ${reason}`;
          this.onChange(entry);
        },
        complete: finish,
      },
    );
    entry.replay = { dispose };
    hush(REPLAY_FIRST_MS);
  }
}
