export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Date with time (isoformat) */
  DateTime: { input: string; output: string; }
  /** An exact decimal number as a JSON string, e.g. "1.25". A JSON number (integer or float) is refused: it may have lost digits before it arrived. */
  Decimal: { input: string; output: string; }
};

/** One audited action: who did what to which order or setting. */
export type AuditEvent = {
  __typename?: 'AuditEvent';
  /** order.placed, order.cancelled, admin.paused, admin.resumed, admin.cancelled_user_orders or admin.read_order. */
  action: Scalars['String']['output'];
  /** The user id of who did it. */
  actor: Scalars['String']['output'];
  /** When it happened (UTC). */
  at: Scalars['DateTime']['output'];
  /** The caller's address (behind trusted proxies: the client's). */
  clientAddress?: Maybe<Scalars['String']['output']>;
  /** A short note, e.g. how many were cancelled. */
  detail: Scalars['String']['output'];
  /** The order id, the user whose orders were cancelled, or the paused pair (mints; * for all trading). */
  subject: Scalars['String']['output'];
  /** The caller's User-Agent header. */
  userAgent?: Maybe<Scalars['String']['output']>;
};

/** The group's open legs cancelled, or why not. */
export type CancelOrderGroupResult = CancelRejected | OrderGroupCancelled;

/** The order cancelled, or why it was not. */
export type CancelOrderResult = CancelRejected | OrderCancelled;

/** The order could not be cancelled. */
export type CancelRejected = {
  __typename?: 'CancelRejected';
  /** Why it was refused; switch on it. */
  code: RejectionCode;
  /** What was wrong, for people. */
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

/** What an attempt failed on; switch on it, not on the error text. SLIPPAGE and INSUFFICIENT_LIQUIDITY: the market refused the price; BLOCKHASH_EXPIRED and VENUE_UNAVAILABLE: retried with a fresh quote; NO_ROUTE, TRANSACTION_FAILED, BELOW_LIMIT_PRICE, INTERNAL, SIMULATION_FAILED, UNSUPPORTED_TOKEN: permanent. SLIPPAGE and INSUFFICIENT_LIQUIDITY may also come from the simulation before a send: then nothing was sent. */
export type FailureKind =
  /** A fired stop's (or a TWAP slice's) best route paid less than its limitPrice: nothing was sent. */
  | 'BELOW_LIMIT_PRICE'
  /** The transaction's blockhash expired before it landed; retried. */
  | 'BLOCKHASH_EXPIRED'
  /** A pool could not fill the amount. */
  | 'INSUFFICIENT_LIQUIDITY'
  /** The order cannot be executed as stored. */
  | 'INTERNAL'
  /** Nothing routes the pair or the amount. */
  | 'NO_ROUTE'
  /** The simulation before sending failed for another reason than price (funds, accounts, a program error): nothing was sent, no fee paid. */
  | 'SIMULATION_FAILED'
  /** The program refused to pay less than the transaction's minimum out. */
  | 'SLIPPAGE'
  /** The transaction landed and failed for another reason. */
  | 'TRANSACTION_FAILED'
  /** A token of the route charges a transfer fee (Token-2022), which quotes do not include: nothing was sent. */
  | 'UNSUPPORTED_TOKEN'
  /** A venue or the chain's RPC did not answer; retried. */
  | 'VENUE_UNAVAILABLE';

/** One trade of an order: what it spent and received. */
export type Fill = {
  __typename?: 'Fill';
  /** tokenIn spent. */
  amountIn: Scalars['Decimal']['output'];
  /** tokenOut received. */
  amountOut: Scalars['Decimal']['output'];
  /** When it was recorded (UTC). */
  at: Scalars['DateTime']['output'];
  /** tokenOut per 1 tokenIn of this fill. */
  price: Scalars['Decimal']['output'];
  /** The order's event that recorded it. */
  seq: Scalars['Int']['output'];
  /** A dry run's fill: the simulation's, nothing was sent. */
  simulated: Scalars['Boolean']['output'];
  /** The transaction; null for a dry run's simulated fill. */
  txSignature?: Maybe<Scalars['String']['output']>;
};

/** How a transaction was readied to land: its compute budget and what its simulation said (the BUILDING step, and a step that followed a failed simulation). */
export type Landing = {
  __typename?: 'Landing';
  /** The compute-unit limit the transaction was signed with. */
  computeUnitLimit: Scalars['Int']['output'];
  /** Priority fee: the compute-unit price, in micro-lamports per unit. */
  priorityFeeMicroLamports: Scalars['Int']['output'];
  /** A simulation ran before the transaction would be sent. */
  simulated: Scalars['Boolean']['output'];
  /** What the simulation paid, in tokenOut base units (integer string); null when it failed. */
  simulatedAmountOut?: Maybe<Scalars['String']['output']>;
  /** Compute units the simulation consumed. */
  simulatedUnits?: Maybe<Scalars['Int']['output']>;
  /** Why the simulation failed, for people; nothing was sent. */
  simulationError?: Maybe<Scalars['String']['output']>;
};

/** Place and cancel your orders. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Cancel a PENDING or WAITING order of yours. */
  cancelOrder: CancelOrderResult;
  /** Cancel the legs of your OCO group that are still PENDING or WAITING; NOT_CANCELLABLE when none is. */
  cancelOrderGroup: CancelOrderGroupResult;
  /** Admin only: cancel every PENDING and WAITING order of a user; returns the orders cancelled (one that a worker took meanwhile finishes). */
  cancelUserOrders: Array<Order>;
  /** Admin only: refuse new orders (TRADING_PAUSED) for all trading or one pair, on every API process. Orders already placed go on. Returns the pauses in force. */
  pauseTrading: Array<TradingPause>;
  /** Place one order. Counts once against your mutation rate limit and once against your order budget (RATE_LIMITED), and must fit your caps on unfinished orders (TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS). */
  placeOrder: PlaceOrderResult;
  /** Place an OCO group: two resting orders (LIMIT, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP) spending the same tokenIn, where the first to fire cancels the other, exactly once. Both legs are stored or neither; a refusal's field names the leg (legs[1].triggerPrice). Counts once against your mutation rate limit, two units of your order budget, and as two orders against your caps. */
  placeOrderGroup: PlaceOrderGroupResult;
  /** Place several orders at once; results come in input order. Over the batch cap, every result is BATCH_TOO_LARGE and nothing is stored. The call counts once against your mutation rate limit; over it, every result is RATE_LIMITED. Each valid order then spends one unit of your order budget, all or none (over it, each is RATE_LIMITED), and each must fit your caps on unfinished orders, in input order (TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS); a clientOrderId placed before always returns its order. */
  placeOrders: Array<PlaceOrderResult>;
  /** Admin only: lift the pause of all trading or of one pair (a pair's pause is separate from the global one). Returns the pauses in force. */
  resumeTrading: Array<TradingPause>;
};


/** Place and cancel your orders. */
export type MutationCancelOrderArgs = {
  id: Scalars['ID']['input'];
};


/** Place and cancel your orders. */
export type MutationCancelOrderGroupArgs = {
  id: Scalars['ID']['input'];
};


/** Place and cancel your orders. */
export type MutationCancelUserOrdersArgs = {
  userId: Scalars['String']['input'];
};


/** Place and cancel your orders. */
export type MutationPauseTradingArgs = {
  pair?: InputMaybe<Scalars['String']['input']>;
};


/** Place and cancel your orders. */
export type MutationPlaceOrderArgs = {
  input: OrderInput;
};


/** Place and cancel your orders. */
export type MutationPlaceOrderGroupArgs = {
  input: OrderGroupInput;
};


/** Place and cancel your orders. */
export type MutationPlaceOrdersArgs = {
  inputs: Array<OrderInput>;
};


/** Place and cancel your orders. */
export type MutationResumeTradingArgs = {
  pair?: InputMaybe<Scalars['String']['input']>;
};

/** An order and its latest state. */
export type Order = {
  __typename?: 'Order';
  /** True: the order fills whole or not at all. False: a LIMIT order filling in parts (see fills). */
  allOrNone: Scalars['Boolean']['output'];
  /** Amount paid, in tokenIn units. */
  amountIn: Scalars['Decimal']['output'];
  /** Output received, in tokenOut units, summed over every fill (cumulative): set once the first fill landed, so also on a LIMIT order resting with a part filled, and kept when it is cancelled or expires. */
  amountOut?: Maybe<Scalars['Decimal']['output']>;
  /** Execution attempts so far. */
  attempts: Scalars['Int']['output'];
  /** TRAILING_STOP: the best price its whole amount could get since placement (it fires at trailBps below it); null until the watcher first priced it. */
  bestPrice?: Maybe<Scalars['Decimal']['output']>;
  /** TWAP: its slices placed so far (MARKET child orders), by index; empty for every other order. */
  children: Array<Order>;
  /** Your idempotency key, when you gave one. */
  clientOrderId?: Maybe<Scalars['String']['output']>;
  /** When the order was placed (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** Every step so far, ordered by seq. */
  events: Array<OrderEvent>;
  /** tokenOut per 1 tokenIn over every fill (cumulative): amountOut / filledAmountIn. */
  executedPrice?: Maybe<Scalars['Decimal']['output']>;
  /** LIMIT, SNIPER and stops: when the order stops resting. */
  expiresAt?: Maybe<Scalars['DateTime']['output']>;
  /** FAILED: why, for people. */
  failureReason?: Maybe<Scalars['String']['output']>;
  /** tokenIn spent so far, summed over every fill (a TWAP: over its filled slices). */
  filledAmountIn: Scalars['Decimal']['output'];
  /** Each trade of the order, oldest first: one for an order that filled whole, one per part for a LIMIT order filling in parts; empty until the first fill and for a TWAP (see children). */
  fills: Array<Fill>;
  /** The OCO group the order is a leg of, with both legs. */
  group?: Maybe<OrderGroup>;
  /** The OCO group the order is a leg of (placeOrderGroup); null for others. */
  groupId?: Maybe<Scalars['ID']['output']>;
  /** Order id (a UUID). */
  id: Scalars['ID']['output'];
  /** LIMIT: minimum tokenOut per 1 tokenIn. Stops: the least they accept once fired (optional). */
  limitPrice?: Maybe<Scalars['Decimal']['output']>;
  /** Adaptive slippage: the cap each attempt's chosen tolerance stays within (null: slippageBps is a fixed tolerance). Each ROUTING event's details.slippage say what was chosen and why. */
  maxSlippageBps?: Maybe<Scalars['Int']['output']>;
  /** A LIMIT order filling in parts: the least tokenIn one fill spends (or what remains, when less is left). */
  minFillAmount?: Maybe<Scalars['Decimal']['output']>;
  /** A TWAP's slice: the TWAP order it belongs to. */
  parent?: Maybe<Order>;
  /** A TWAP's slice: the TWAP order it belongs to. */
  parentId?: Maybe<Scalars['ID']['output']>;
  /** TWAP: where it stands now, summed over its slices (also after a cancel, while slices placed before it finish); null for every other order. */
  progress?: Maybe<TwapProgress>;
  /** amountIn - filledAmountIn: what has not traded (after a cancel or an expiry, what never will). */
  remainingAmountIn: Scalars['Decimal']['output'];
  /** The chosen route, once ROUTING has happened. */
  route?: Maybe<Route>;
  /** Dry run: the order ended CONFIRMED with its simulation's fill (amountOut, executedPrice); no transaction was sent. */
  simulated: Scalars['Boolean']['output'];
  /** A TWAP's slice: its index, 0-based. */
  sliceIndex?: Maybe<Scalars['Int']['output']>;
  /** Slippage allowed below the route's expected output, in bps; with maxSlippageBps the cap. */
  slippageBps: Scalars['Int']['output'];
  /** Where the order is now. */
  status: OrderStatus;
  /** Token the order pays in. */
  tokenIn: Token;
  /** Token the order buys. */
  tokenOut: Token;
  /** TRAILING_STOP: how far below the best price it fires, in bps. */
  trailBps?: Maybe<Scalars['Int']['output']>;
  /** STOP_LOSS, TAKE_PROFIT: the trigger, tokenOut per 1 tokenIn. */
  triggerPrice?: Maybe<Scalars['Decimal']['output']>;
  /** TWAP: its slices and their schedule. */
  twap?: Maybe<Twap>;
  /** SUBMITTED, CONFIRMED: the transaction's signature (with fills, the last fill's). */
  txSignature?: Maybe<Scalars['String']['output']>;
  /** What the order waits for before it swaps. */
  type: OrderType;
  /** When the order last changed (UTC). */
  updatedAt: Scalars['DateTime']['output'];
};

/** The order was cancelled. */
export type OrderCancelled = {
  __typename?: 'OrderCancelled';
  /** The order, now CANCELLED. */
  order: Order;
};

/** Orders, newest first, with stable cursors. */
export type OrderConnection = {
  __typename?: 'OrderConnection';
  /** The orders of this page, newest first. */
  edges: Array<OrderEdge>;
  /** Where this page sits. */
  pageInfo: PageInfo;
};

/** An order and its stable cursor. */
export type OrderEdge = {
  __typename?: 'OrderEdge';
  /** Opaque cursor of this order; stays valid while new orders arrive. */
  cursor: Scalars['String']['output'];
  /** The order. */
  node: Order;
};

/** One step of an order. seq counts 1, 2, 3... with no gap. */
export type OrderEvent = {
  __typename?: 'OrderEvent';
  /** CONFIRMED: output received, in tokenOut units. */
  amountOut?: Maybe<Scalars['Decimal']['output']>;
  /** When the step happened (UTC). */
  at: Scalars['DateTime']['output'];
  /** Execution attempt this step belongs to (0 = none yet). */
  attempt: Scalars['Int']['output'];
  /** CANCELLED because the other leg of its OCO group fired: that leg's id. */
  cancelledBySibling?: Maybe<Scalars['ID']['output']>;
  /** A retry or FAILED: the error, for people. */
  error?: Maybe<Scalars['String']['output']>;
  /** tokenOut per 1 tokenIn. */
  executedPrice?: Maybe<Scalars['Decimal']['output']>;
  /** A retry, a failure, or a rest after failing on price: what it failed on. */
  failure?: Maybe<FailureKind>;
  /** A LIMIT order filling in parts: on CONFIRMED, and on WAITING after a part filled, this trade alone (amountOut and executedPrice here are cumulative). */
  fill?: Maybe<Fill>;
  /** BUILDING (and a step after a failed simulation): the priority fee, compute limit and simulation of the transaction. */
  landing?: Maybe<Landing>;
  /** What happened, for people; switch on status and failure, not on this text. */
  message: Scalars['String']['output'];
  /** The order this step belongs to. */
  orderId: Scalars['ID']['output'];
  /** A TWAP's steps (a slice placed, slices finished, the end): where it stood then. */
  progress?: Maybe<TwapProgress>;
  /** ROUTING: every venue's best quote. */
  quotes?: Maybe<Array<Quote>>;
  /** ROUTING: the chosen route. */
  route?: Maybe<Route>;
  /** 1, 2, 3... per order with no gap; resume a subscription with afterSeq. */
  seq: Scalars['Int']['output'];
  /** CONFIRMED in dry-run mode: amountOut is the simulation's fill; no transaction was sent (txSignature is null). */
  simulated: Scalars['Boolean']['output'];
  /** ROUTING of an order with maxSlippageBps: the tolerance this attempt got and why. */
  slippage?: Maybe<SlippageChosen>;
  /** The order's status after this step. */
  status: OrderStatus;
  /** The PENDING step of a resting order that fired: what its trigger saw. */
  trigger?: Maybe<TriggerSeen>;
  /** SUBMITTED, CONFIRMED: the transaction's signature. */
  txSignature?: Maybe<Scalars['String']['output']>;
};

/** An OCO group: two resting orders where the first to fire cancels the other. */
export type OrderGroup = {
  __typename?: 'OrderGroup';
  /** Group id (a UUID), each leg's groupId. */
  id: Scalars['ID']['output'];
  /** The two legs. At most one ever trades: the first to fire cancels the other in the same write. */
  orders: Array<Order>;
};

/** The legs of the OCO group that could still be cancelled were. */
export type OrderGroupCancelled = {
  __typename?: 'OrderGroupCancelled';
  /** The group after the cancel: a leg that had fired or finished is unchanged. */
  group: OrderGroup;
};

/** An OCO group to place: two resting orders, one position. */
export type OrderGroupInput = {
  /** Exactly two legs, each LIMIT, STOP_LOSS, TAKE_PROFIT or TRAILING_STOP, spending the same tokenIn; a clientOrderId on each or on neither (placing the same two again returns the first group). The first to fire cancels the other. */
  legs: Array<OrderInput>;
};

/** The OCO group was accepted: both legs were stored. */
export type OrderGroupPlaced = {
  __typename?: 'OrderGroupPlaced';
  /** The group as stored, both legs PENDING. */
  group: OrderGroup;
};

/** An order to place. */
export type OrderInput = {
  /** LIMIT: true fills the whole amountIn at once or not at all. False or unset: when the whole amount does not meet the limit, the largest part that does trades (at least minFillAmount) and the rest keeps resting. Only for LIMIT orders. */
  allOrNone?: InputMaybe<Scalars['Boolean']['input']>;
  /** In tokenIn units, within its decimals. */
  amountIn: Scalars['Decimal']['input'];
  /** Idempotency key, unique per user: placing it again returns the same order. */
  clientOrderId?: InputMaybe<Scalars['String']['input']>;
  /** TWAP (required), 1..604800: the slices are placed over this many seconds, slice k at k x durationSeconds / slices after placement. */
  durationSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** LIMIT, SNIPER and stops: when the order stops resting, at most the server's horizon ahead (30 days by default); unset, it expires at the horizon. */
  expiresAt?: InputMaybe<Scalars['DateTime']['input']>;
  /** TWAP (optional), 0..5000: move each slice's time by up to this share of the interval between slices, either way (default 0). */
  jitterBps?: InputMaybe<Scalars['Int']['input']>;
  /** LIMIT: minimum tokenOut per 1 tokenIn. STOP_LOSS, TAKE_PROFIT, TRAILING_STOP: optional floor once fired (a fill below it fails BELOW_LIMIT_PRICE, nothing swapped); for STOP_LOSS and TAKE_PROFIT at most triggerPrice. TWAP: optional floor of every slice (a slice whose best route pays less is skipped, nothing sent). */
  limitPrice?: InputMaybe<Scalars['Decimal']['input']>;
  /** Refuse routes that move the price more than this. */
  maxPriceImpactBps?: InputMaybe<Scalars['Int']['input']>;
  /** Adaptive slippage, 1..5000: the engine picks each attempt's tolerance from the route's depth and the pools' recent moves and failures, widens it after a slippage failure, never above this cap (the ROUTING event says what it chose and why). Not with slippageBps. */
  maxSlippageBps?: InputMaybe<Scalars['Int']['input']>;
  /** LIMIT filling in parts: the least tokenIn one fill spends, from 1% of amountIn (an order fills in at most 100 parts) up to amountIn (what remains, when less is left); unset, a share of amountIn the server sets (1% by default). Not with allOrNone: true. */
  minFillAmount?: InputMaybe<Scalars['Decimal']['input']>;
  /** SNIPER: optional filter, in tokenIn units. */
  minLiquidity?: InputMaybe<Scalars['Decimal']['input']>;
  /** TWAP (required), 1..100: how many slices amountIn is cut into (exactly, to the base unit; the last slice takes the remainder). */
  slices?: InputMaybe<Scalars['Int']['input']>;
  /** A fixed tolerance below the route's expected output, 1..5000, default 50. Not with maxSlippageBps. */
  slippageBps?: InputMaybe<Scalars['Int']['input']>;
  /** Symbol ("SOL") or mint address. */
  tokenIn: Scalars['String']['input'];
  /** Symbol or mint; a SNIPER order may name a mint no venue lists yet. */
  tokenOut: Scalars['String']['input'];
  /** TRAILING_STOP (required), 1..5000: fire when the best route for the whole amountIn pays this many bps below the best price it paid since placement. */
  trailBps?: InputMaybe<Scalars['Int']['input']>;
  /** STOP_LOSS (required): fire when the best route for the whole amountIn pays this many tokenOut per 1 tokenIn or less. TAKE_PROFIT (required): fire when it pays this or more. Positive, at most 18 decimals. */
  triggerPrice?: InputMaybe<Scalars['Decimal']['input']>;
  /** MARKET, LIMIT, SNIPER, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP or TWAP. */
  type: OrderType;
};

/** The order was accepted (or already existed for this clientOrderId). */
export type OrderPlaced = {
  __typename?: 'OrderPlaced';
  /** The order as stored. */
  order: Order;
};

/** The order was refused; nothing was stored. */
export type OrderRejected = {
  __typename?: 'OrderRejected';
  /** Why it was refused; switch on it. */
  code: RejectionCode;
  /** The input field at fault, when one is. */
  field?: Maybe<Scalars['String']['output']>;
  /** What was wrong, for people. */
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

/** Where an order is: PENDING -> (WAITING) -> ROUTING -> BUILDING -> SUBMITTED -> CONFIRMED, or FAILED, CANCELLED, EXPIRED. */
export type OrderStatus =
  /** Building the transaction for the chosen route. */
  | 'BUILDING'
  /** Terminal: cancelled by its owner before it executed. */
  | 'CANCELLED'
  /** Terminal: the swap landed; amountOut and txSignature are set. */
  | 'CONFIRMED'
  /** Terminal: expiresAt passed before the order's condition held. */
  | 'EXPIRED'
  /** Terminal: the order could not be executed; failureReason says why. */
  | 'FAILED'
  /** Accepted, stored and queued for a worker. */
  | 'PENDING'
  /** Quoting every venue and choosing the route. */
  | 'ROUTING'
  /** The transaction was sent; waiting for its confirmation. */
  | 'SUBMITTED'
  /** A LIMIT, SNIPER or stop order resting until its condition holds; a TWAP working through its slices. */
  | 'WAITING';

/** What an order waits for before it swaps. */
export type OrderType =
  /** Rest until the best route pays at least limitPrice for the whole amount. */
  | 'LIMIT'
  /** Swap now at the best route, failing rather than fill below the slippage floor. */
  | 'MARKET'
  /** Rest until tokenOut trades on some venue, then buy at once. */
  | 'SNIPER'
  /** Rest until the best route for the whole amount pays triggerPrice or less (tokenOut per 1 tokenIn), then sell as a market order (not below limitPrice, if set). */
  | 'STOP_LOSS'
  /** Rest until the best route for the whole amount pays triggerPrice or more, then sell as a market order (not below limitPrice, if set). */
  | 'TAKE_PROFIT'
  /** Rest until the best route for the whole amount pays trailBps below the best price it paid since placement, then sell as a market order. */
  | 'TRAILING_STOP'
  /** Cut amountIn into slices placed as MARKET child orders over durationSeconds (each not below limitPrice, if set); the order completes when every slice finished. */
  | 'TWAP';

/** Relay page information. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last edge: pass it as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** More orders follow endCursor. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Orders precede startCursor. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first edge, null on an empty page. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** The group placed, or why it was refused (field names the leg). */
export type PlaceOrderGroupResult = OrderGroupPlaced | OrderRejected;

/** The order placed, or why it was refused. */
export type PlaceOrderResult = OrderPlaced | OrderRejected;

/** Read your orders, and the tokens, venues and routes on offer. */
export type Query = {
  __typename?: 'Query';
  /** Admin only: any user's order; null if there is none. */
  adminOrder?: Maybe<Order>;
  /** Admin only: the audit trail, newest first. */
  auditEvents: Array<AuditEvent>;
  /** One of your orders; null if it does not exist or is not yours. */
  order?: Maybe<Order>;
  /** Who placed and cancelled one of your orders, when and from where; empty if it does not exist or is not yours. */
  orderAudit: Array<AuditEvent>;
  /** One of your OCO groups with both legs; null if it does not exist or is not yours. */
  orderGroup?: Maybe<OrderGroup>;
  /** Your orders, newest first (Relay connection, stable cursors). */
  orders: OrderConnection;
  /** Preview the route of a market order without placing it. Each quote (aliases too) counts against your quote budget, or without a token against your address's budget of anonymous reads (RATE_LIMITED). */
  quote: QuoteResult;
  /** Tokens you can trade. Without a token, counts against your address's budget of anonymous reads (RATE_LIMITED). */
  tokens: Array<Token>;
  /** Admin only: the trading pauses in force. */
  tradingPauses: Array<TradingPause>;
  /** The DEX venues the router quotes. Without a token, counts against your address's budget of anonymous reads (RATE_LIMITED). */
  venues: Array<Venue>;
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryAdminOrderArgs = {
  id: Scalars['ID']['input'];
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryAuditEventsArgs = {
  actor?: InputMaybe<Scalars['String']['input']>;
  limit?: Scalars['Int']['input'];
  subject?: InputMaybe<Scalars['String']['input']>;
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryOrderArgs = {
  id: Scalars['ID']['input'];
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryOrderAuditArgs = {
  id: Scalars['ID']['input'];
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryOrderGroupArgs = {
  id: Scalars['ID']['input'];
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryOrdersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<OrderStatus>;
  type?: InputMaybe<OrderType>;
};


/** Read your orders, and the tokens, venues and routes on offer. */
export type QueryQuoteArgs = {
  amountIn: Scalars['Decimal']['input'];
  slippageBps?: InputMaybe<Scalars['Int']['input']>;
  tokenIn: Scalars['String']['input'];
  tokenOut: Scalars['String']['input'];
};

/** The best a single pool of one venue pays for the whole amount. */
export type Quote = {
  __typename?: 'Quote';
  /** Shortfall of amountOut below the whole amount at the reference mid price (the best spot price, fee excluded, of any path of the pair), in bps: fees, impact and a worse price than the best pool's. Null when no venue gave a spot price. */
  allInCostBps?: Maybe<Scalars['Int']['output']>;
  /** Output in tokenOut units, after fees. */
  amountOut: Scalars['Decimal']['output'];
  /** Fee in tokenIn units. */
  fee: Scalars['Decimal']['output'];
  /** Pool address. */
  pool: Scalars['String']['output'];
  /** Shortfall below the spot price, in bps. */
  priceImpactBps: Scalars['Int']['output'];
  /** Venue name, as the venues query lists it. */
  venue: Scalars['String']['output'];
};

/** No route could be quoted. */
export type QuoteRejected = {
  __typename?: 'QuoteRejected';
  /** Why no route was quoted; switch on it. */
  code: RejectionCode;
  /** What was wrong, for people. */
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

/** The route a market order would take now, or why none. */
export type QuoteResult = QuoteRejected | RouteQuote;

/** Why a request was refused; switch on it, not on the message. */
export type RejectionCode =
  /** placeOrders got more orders than the batch cap; nothing was stored. */
  | 'BATCH_TOO_LARGE'
  /** The operation needs a token with the admin role. */
  | 'FORBIDDEN'
  /** An amount is not positive or has more decimals than its token. */
  | 'INVALID_AMOUNT'
  /** A field is malformed or out of its bounds; `field` names it. */
  | 'INVALID_INPUT'
  /** The order is past WAITING (or changing right now) and cannot be cancelled. */
  | 'NOT_CANCELLABLE'
  /** No such order of yours. */
  | 'NOT_FOUND'
  /** No venue quotes this pair for this amount. */
  | 'NO_ROUTE'
  /** Over a rate limit or budget; retry after retryAfterSeconds. */
  | 'RATE_LIMITED'
  /** tokenIn and tokenOut are the same token. */
  | 'SAME_TOKEN'
  /** Over your cap on unfinished orders. */
  | 'TOO_MANY_OPEN_ORDERS'
  /** Over your cap on orders being executed at once. */
  | 'TOO_MANY_ORDERS_IN_FLIGHT'
  /** Over your cap on resting LIMIT, SNIPER and stop orders. */
  | 'TOO_MANY_RESTING_ORDERS'
  /** An administrator paused all trading or this pair; nothing was stored. */
  | 'TRADING_PAUSED'
  /** No token, or a token that is invalid or expired. */
  | 'UNAUTHENTICATED'
  /** The server cannot take it now (database down or not ready); nothing was stored, retry with the same clientOrderId. */
  | 'UNAVAILABLE'
  /** No token with this symbol or mint is known. */
  | 'UNKNOWN_TOKEN'
  /** This server does not accept orders of this type. */
  | 'UNSUPPORTED_ORDER_TYPE';

/** The path the router chose and the floor slippage allows. */
export type Route = {
  __typename?: 'Route';
  /** Shortfall of amountOut below amountIn at the reference mid price (the best spot price, fee excluded, of any path of the pair when routed), in bps: fees, impact and a worse price than the best pool's, all in. Null on routes recorded before it existed, or when no venue gave a spot price. */
  allInCostBps?: Maybe<Scalars['Int']['output']>;
  /** Input of the whole route, in the order's tokenIn units. */
  amountIn: Scalars['Decimal']['output'];
  /** Expected output, before slippage. */
  amountOut: Scalars['Decimal']['output'];
  /** The swaps in order; split routes have several legs on the same pair, multi routes direct legs and each hub path's legs (first hop, then second). */
  legs: Array<RouteLeg>;
  /** The transaction fails rather than pay less than this. */
  minAmountOut: Scalars['Decimal']['output'];
  /** Shortfall of amountOut below the spot prices of the pools it fills on, fees excluded, in bps: how far the order moves the price. */
  priceImpactBps: Scalars['Int']['output'];
};

/** One swap of a route through one pool. */
export type RouteLeg = {
  __typename?: 'RouteLeg';
  /** Input of this leg, in its tokenIn units. */
  amountIn: Scalars['Decimal']['output'];
  /** Expected output of this leg, in its tokenOut units, after fees. */
  amountOut: Scalars['Decimal']['output'];
  /** Fee in this leg's tokenIn units. */
  fee: Scalars['Decimal']['output'];
  /** Pool address. */
  pool: Scalars['String']['output'];
  /** Token this leg pays in. */
  tokenIn: Token;
  /** Token this leg receives. */
  tokenOut: Token;
  /** Venue the pool belongs to. */
  venue: Scalars['String']['output'];
};

/** The route a market order would take now, and every venue's quote. */
export type RouteQuote = {
  __typename?: 'RouteQuote';
  /** Every venue's best single-pool quote for the whole amount. */
  quotes: Array<Quote>;
  /** The route, with its floor at the given slippage. */
  route: Route;
};

/** The slippage tolerance an attempt of an order with maxSlippageBps got, and the inputs it was chosen from (all in bps). */
export type SlippageChosen = {
  __typename?: 'SlippageChosen';
  /** A retry: how much less the same amount buys than at the previous attempt. */
  adverseMoveBps: Scalars['Int']['output'];
  /** The tolerance: minAmountOut is the route's amountOut less this. */
  chosenBps: Scalars['Int']['output'];
  /** The order's cap; chosenBps <= it. */
  maxSlippageBps: Scalars['Int']['output'];
  /** A retry: the previous attempt's tolerance. */
  previousBps?: Maybe<Scalars['Int']['output']>;
  /** The route's price impact (depth). */
  priceImpactBps: Scalars['Int']['output'];
  /** The choice in words, for people. */
  reason: Scalars['String']['output'];
  /** The widest tolerance that failed on slippage on those pools lately. */
  recentFailureBps?: Maybe<Scalars['Int']['output']>;
  /** The largest recent price move of the route's pools (hops summed). */
  recentMoveBps: Scalars['Int']['output'];
  /** The order's attempts that failed on slippage so far. */
  slippageFailures: Scalars['Int']['output'];
};

/** Watch your orders step by step (websockets only). */
export type Subscription = {
  __typename?: 'Subscription';
  /** Live steps of all your orders from now on, each order gap-free by seq. Ends with an UNAUTHENTICATED error when the connection's token expires. */
  myOrderEvents: OrderEvent;
  /** History of your order after afterSeq, then live steps; completes after a terminal step. seq is gap-free: resume with afterSeq = the last seq you saw. Ends with an UNAUTHENTICATED error when the connection's token expires. */
  orderEvents: OrderEvent;
};


/** Watch your orders step by step (websockets only). */
export type SubscriptionOrderEventsArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  orderId: Scalars['ID']['input'];
};

/** An SPL token. */
export type Token = {
  __typename?: 'Token';
  /** Decimals of the mint; amounts never exceed them. */
  decimals: Scalars['Int']['output'];
  /** Mint address (base58). */
  mint: Scalars['String']['output'];
  /** Ticker, when known. */
  symbol?: Maybe<Scalars['String']['output']>;
};

/** A trading pause in force. */
export type TradingPause = {
  __typename?: 'TradingPause';
  /** * for all trading, else the pair's two mints. */
  key: Scalars['String']['output'];
  /** 'all trading' or the pair, e.g. SOL/USDC. */
  label: Scalars['String']['output'];
};

/** What fired a resting order: the price seen and the pool whose change showed it. */
export type TriggerSeen = {
  __typename?: 'TriggerSeen';
  /** TRAILING_STOP: the best price seen since placement. */
  bestPrice?: Maybe<Scalars['Decimal']['output']>;
  /** The type of order whose trigger held. */
  kind: OrderType;
  /** LIMIT: the order's limit. */
  limitPrice?: Maybe<Scalars['Decimal']['output']>;
  /** The pool whose change (or launch) showed the trigger; null when it held on the watcher's own look (start, resync). */
  pool?: Maybe<Scalars['String']['output']>;
  /** LIMIT and stops: what the best route paid, tokenOut per 1 tokenIn, for the whole amount (a lower bound when several orders were confirmed at once). */
  price?: Maybe<Scalars['Decimal']['output']>;
  /** Stops: the trigger the price reached (for TRAILING_STOP, trailBps below bestPrice). */
  triggerPrice?: Maybe<Scalars['Decimal']['output']>;
  /** The venue of that pool. */
  venue?: Maybe<Scalars['String']['output']>;
};

/** How a TWAP order trades: its slices and their schedule. */
export type Twap = {
  __typename?: 'Twap';
  /** Seconds over which they are placed. */
  durationSeconds: Scalars['Int']['output'];
  /** How far each slice's time may move, in bps of the interval between slices. */
  jitterBps: Scalars['Int']['output'];
  /** When the next slice is due (UTC); null once all are placed. */
  nextSliceAt?: Maybe<Scalars['DateTime']['output']>;
  /** The index (0-based) of the slice to place next; equals slices once all are placed. */
  nextSliceIndex: Scalars['Int']['output'];
  /** How many slices amountIn is cut into. */
  slices: Scalars['Int']['output'];
};

/** Where a TWAP order stands, summed over its slices. */
export type TwapProgress = {
  __typename?: 'TwapProgress';
  /** tokenOut the filled slices received, in tokenOut units. */
  amountOut: Scalars['Decimal']['output'];
  /** amountOut / filledAmountIn, tokenOut per 1 tokenIn; null while none filled. */
  averagePrice?: Maybe<Scalars['Decimal']['output']>;
  /** tokenIn the filled slices spent, in tokenIn units. */
  filledAmountIn: Scalars['Decimal']['output'];
  /** How many slices the order has in all. */
  slices: Scalars['Int']['output'];
  /** Slices finished, filled or not. */
  slicesDone: Scalars['Int']['output'];
  /** Slices finished without filling (failed, skipped below limitPrice, cancelled). */
  slicesFailed: Scalars['Int']['output'];
  /** Slices CONFIRMED. */
  slicesFilled: Scalars['Int']['output'];
  /** Slices placed so far (child orders). */
  slicesPlaced: Scalars['Int']['output'];
  /** Slices not finished yet. */
  slicesRemaining: Scalars['Int']['output'];
};

/** A DEX venue the router quotes. */
export type Venue = {
  __typename?: 'Venue';
  /** Kind of pools the venue runs, e.g. concentrated liquidity. */
  kind: Scalars['String']['output'];
  /** Venue name, as routes and quotes name it. */
  name: Scalars['String']['output'];
  /** Pools of the venue the router knows. */
  poolCount: Scalars['Int']['output'];
};
