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
  /** An exact decimal number as a string, e.g. "1.25". Never a float. */
  Decimal: { input: string; output: string; }
};

export type CancelOrderResult = CancelRejected | OrderCancelled;

/** The order could not be cancelled. */
export type CancelRejected = {
  __typename?: 'CancelRejected';
  code: RejectionCode;
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

/** What an attempt failed on; switch on it, not on the error text. SLIPPAGE and INSUFFICIENT_LIQUIDITY: the market refused the price; BLOCKHASH_EXPIRED and VENUE_UNAVAILABLE: retried with a fresh quote; NO_ROUTE, TRANSACTION_FAILED, INTERNAL: permanent. */
export type FailureKind =
  /** A fired stop's best route paid less than its limitPrice: nothing was sent (permanent). */
  | 'BELOW_LIMIT_PRICE'
  | 'BLOCKHASH_EXPIRED'
  | 'INSUFFICIENT_LIQUIDITY'
  | 'INTERNAL'
  | 'NO_ROUTE'
  | 'SLIPPAGE'
  | 'TRANSACTION_FAILED'
  | 'VENUE_UNAVAILABLE';

export type Mutation = {
  __typename?: 'Mutation';
  /** Cancel a PENDING or WAITING order of yours. */
  cancelOrder: CancelOrderResult;
  /** Place one order. Counts once against your mutation rate limit and once against your order budget (RATE_LIMITED), and must fit your caps on unfinished orders (TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS). */
  placeOrder: PlaceOrderResult;
  /** Place several orders at once; results come in input order. Over the batch cap, every result is BATCH_TOO_LARGE and nothing is stored. The call counts once against your mutation rate limit; over it, every result is RATE_LIMITED. Each valid order then spends one unit of your order budget, all or none (over it, each is RATE_LIMITED), and each must fit your caps on unfinished orders, in input order (TOO_MANY_ORDERS_IN_FLIGHT, TOO_MANY_OPEN_ORDERS, TOO_MANY_RESTING_ORDERS); a clientOrderId placed before always returns its order. */
  placeOrders: Array<PlaceOrderResult>;
};


export type MutationCancelOrderArgs = {
  id: Scalars['ID']['input'];
};


export type MutationPlaceOrderArgs = {
  input: OrderInput;
};


export type MutationPlaceOrdersArgs = {
  inputs: Array<OrderInput>;
};

/** An order and its latest state. */
export type Order = {
  __typename?: 'Order';
  amountIn: Scalars['Decimal']['output'];
  amountOut?: Maybe<Scalars['Decimal']['output']>;
  attempts: Scalars['Int']['output'];
  /** TRAILING_STOP: the best price its whole amount could get since placement (it fires at trailBps below it); null until the watcher first priced it. */
  bestPrice?: Maybe<Scalars['Decimal']['output']>;
  clientOrderId?: Maybe<Scalars['String']['output']>;
  createdAt: Scalars['DateTime']['output'];
  /** Every step so far, ordered by seq. */
  events: Array<OrderEvent>;
  /** tokenOut per 1 tokenIn. */
  executedPrice?: Maybe<Scalars['Decimal']['output']>;
  expiresAt?: Maybe<Scalars['DateTime']['output']>;
  failureReason?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  limitPrice?: Maybe<Scalars['Decimal']['output']>;
  route?: Maybe<Route>;
  slippageBps: Scalars['Int']['output'];
  status: OrderStatus;
  tokenIn: Token;
  tokenOut: Token;
  /** TRAILING_STOP: how far below the best price it fires, in bps. */
  trailBps?: Maybe<Scalars['Int']['output']>;
  /** STOP_LOSS, TAKE_PROFIT: the trigger, tokenOut per 1 tokenIn. */
  triggerPrice?: Maybe<Scalars['Decimal']['output']>;
  txSignature?: Maybe<Scalars['String']['output']>;
  type: OrderType;
  updatedAt: Scalars['DateTime']['output'];
};

/** The order was cancelled. */
export type OrderCancelled = {
  __typename?: 'OrderCancelled';
  order: Order;
};

/** Orders, newest first, with stable cursors. */
export type OrderConnection = {
  __typename?: 'OrderConnection';
  edges: Array<OrderEdge>;
  pageInfo: PageInfo;
};

export type OrderEdge = {
  __typename?: 'OrderEdge';
  cursor: Scalars['String']['output'];
  node: Order;
};

/** One step of an order. seq counts 1, 2, 3... with no gap. */
export type OrderEvent = {
  __typename?: 'OrderEvent';
  amountOut?: Maybe<Scalars['Decimal']['output']>;
  at: Scalars['DateTime']['output'];
  /** Execution attempt this step belongs to (0 = none yet). */
  attempt: Scalars['Int']['output'];
  error?: Maybe<Scalars['String']['output']>;
  /** tokenOut per 1 tokenIn. */
  executedPrice?: Maybe<Scalars['Decimal']['output']>;
  /** A retry, a failure, or a rest after failing on price: what it failed on. */
  failure?: Maybe<FailureKind>;
  message: Scalars['String']['output'];
  orderId: Scalars['ID']['output'];
  /** ROUTING: every venue's best quote. */
  quotes?: Maybe<Array<Quote>>;
  /** ROUTING: the chosen route. */
  route?: Maybe<Route>;
  seq: Scalars['Int']['output'];
  status: OrderStatus;
  /** The PENDING step of a resting order that fired: what its trigger saw. */
  trigger?: Maybe<TriggerSeen>;
  txSignature?: Maybe<Scalars['String']['output']>;
};

/** An order to place. */
export type OrderInput = {
  /** In tokenIn units, within its decimals. */
  amountIn: Scalars['Decimal']['input'];
  /** Idempotency key, unique per user: placing it again returns the same order. */
  clientOrderId?: InputMaybe<Scalars['String']['input']>;
  /** LIMIT, SNIPER and stops: when the order stops resting, at most the server's horizon ahead (30 days by default); unset, it expires at the horizon. */
  expiresAt?: InputMaybe<Scalars['DateTime']['input']>;
  /** LIMIT: minimum tokenOut per 1 tokenIn. STOP_LOSS, TAKE_PROFIT, TRAILING_STOP: optional floor once fired (a fill below it fails BELOW_LIMIT_PRICE, nothing swapped); for STOP_LOSS and TAKE_PROFIT at most triggerPrice. */
  limitPrice?: InputMaybe<Scalars['Decimal']['input']>;
  /** Refuse routes that move the price more than this. */
  maxPriceImpactBps?: InputMaybe<Scalars['Int']['input']>;
  /** SNIPER: optional filter, in tokenIn units. */
  minLiquidity?: InputMaybe<Scalars['Decimal']['input']>;
  /** 1..5000, default 50. */
  slippageBps?: InputMaybe<Scalars['Int']['input']>;
  /** Symbol ("SOL") or mint address. */
  tokenIn: Scalars['String']['input'];
  /** Symbol or mint; a SNIPER order may name a mint no venue lists yet. */
  tokenOut: Scalars['String']['input'];
  /** TRAILING_STOP (required), 1..5000: fire when the best route for the whole amountIn pays this many bps below the best price it paid since placement. */
  trailBps?: InputMaybe<Scalars['Int']['input']>;
  /** STOP_LOSS (required): fire when the best route for the whole amountIn pays this many tokenOut per 1 tokenIn or less. TAKE_PROFIT (required): fire when it pays this or more. Positive, at most 18 decimals. */
  triggerPrice?: InputMaybe<Scalars['Decimal']['input']>;
  type: OrderType;
};

/** The order was accepted (or already existed for this clientOrderId). */
export type OrderPlaced = {
  __typename?: 'OrderPlaced';
  order: Order;
};

/** The order was refused; nothing was stored. */
export type OrderRejected = {
  __typename?: 'OrderRejected';
  code: RejectionCode;
  /** The input field at fault, when one is. */
  field?: Maybe<Scalars['String']['output']>;
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

/** Where an order is: PENDING -> (WAITING) -> ROUTING -> BUILDING -> SUBMITTED -> CONFIRMED, or FAILED, CANCELLED, EXPIRED. */
export type OrderStatus =
  | 'BUILDING'
  | 'CANCELLED'
  | 'CONFIRMED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PENDING'
  | 'ROUTING'
  | 'SUBMITTED'
  | 'WAITING';

/** What an order waits for before it swaps. */
export type OrderType =
  | 'LIMIT'
  | 'MARKET'
  | 'SNIPER'
  /** Rest until the best route for the whole amount pays triggerPrice or less (tokenOut per 1 tokenIn), then sell as a market order (not below limitPrice, if set). */
  | 'STOP_LOSS'
  /** Rest until the best route for the whole amount pays triggerPrice or more, then sell as a market order (not below limitPrice, if set). */
  | 'TAKE_PROFIT'
  /** Rest until the best route for the whole amount pays trailBps below the best price it paid since placement, then sell as a market order. */
  | 'TRAILING_STOP';

/** Relay page information. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
  hasPreviousPage: Scalars['Boolean']['output'];
  startCursor?: Maybe<Scalars['String']['output']>;
};

export type PlaceOrderResult = OrderPlaced | OrderRejected;

export type Query = {
  __typename?: 'Query';
  /** One of your orders; null if it does not exist or is not yours. */
  order?: Maybe<Order>;
  /** Your orders, newest first (Relay connection, stable cursors). */
  orders: OrderConnection;
  /** Preview the route of a market order without placing it. Each quote (aliases too) counts against your quote budget, or without a token against your address's budget of anonymous reads (RATE_LIMITED). */
  quote: QuoteResult;
  /** Tokens you can trade. Without a token, counts against your address's budget of anonymous reads (RATE_LIMITED). */
  tokens: Array<Token>;
  /** The DEX venues the router quotes. Without a token, counts against your address's budget of anonymous reads (RATE_LIMITED). */
  venues: Array<Venue>;
};


export type QueryOrderArgs = {
  id: Scalars['ID']['input'];
};


export type QueryOrdersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<OrderStatus>;
  type?: InputMaybe<OrderType>;
};


export type QueryQuoteArgs = {
  amountIn: Scalars['Decimal']['input'];
  slippageBps?: InputMaybe<Scalars['Int']['input']>;
  tokenIn: Scalars['String']['input'];
  tokenOut: Scalars['String']['input'];
};

/** The best a single pool of one venue pays for the whole amount. */
export type Quote = {
  __typename?: 'Quote';
  /** Output in tokenOut units, after fees. */
  amountOut: Scalars['Decimal']['output'];
  /** Fee in tokenIn units. */
  fee: Scalars['Decimal']['output'];
  /** Pool address. */
  pool: Scalars['String']['output'];
  /** Shortfall below the spot price, in bps. */
  priceImpactBps: Scalars['Int']['output'];
  venue: Scalars['String']['output'];
};

/** No route could be quoted. */
export type QuoteRejected = {
  __typename?: 'QuoteRejected';
  code: RejectionCode;
  message: Scalars['String']['output'];
  /** RATE_LIMITED: seconds until a retry will be accepted. */
  retryAfterSeconds?: Maybe<Scalars['Float']['output']>;
};

export type QuoteResult = QuoteRejected | RouteQuote;

/** Why a request was refused; switch on it, not on the message. */
export type RejectionCode =
  | 'BATCH_TOO_LARGE'
  | 'INVALID_AMOUNT'
  | 'INVALID_INPUT'
  | 'NOT_CANCELLABLE'
  | 'NOT_FOUND'
  | 'NO_ROUTE'
  | 'RATE_LIMITED'
  | 'SAME_TOKEN'
  | 'TOO_MANY_OPEN_ORDERS'
  | 'TOO_MANY_ORDERS_IN_FLIGHT'
  | 'TOO_MANY_RESTING_ORDERS'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  | 'UNKNOWN_TOKEN'
  | 'UNSUPPORTED_ORDER_TYPE';

/** The path the router chose and the floor slippage allows. */
export type Route = {
  __typename?: 'Route';
  amountIn: Scalars['Decimal']['output'];
  /** Expected output, before slippage. */
  amountOut: Scalars['Decimal']['output'];
  legs: Array<RouteLeg>;
  /** The transaction fails rather than pay less than this. */
  minAmountOut: Scalars['Decimal']['output'];
  priceImpactBps: Scalars['Int']['output'];
};

/** One swap of a route through one pool. */
export type RouteLeg = {
  __typename?: 'RouteLeg';
  amountIn: Scalars['Decimal']['output'];
  amountOut: Scalars['Decimal']['output'];
  /** Fee in this leg's tokenIn units. */
  fee: Scalars['Decimal']['output'];
  pool: Scalars['String']['output'];
  tokenIn: Token;
  tokenOut: Token;
  venue: Scalars['String']['output'];
};

/** The route a market order would take now, and every venue's quote. */
export type RouteQuote = {
  __typename?: 'RouteQuote';
  quotes: Array<Quote>;
  route: Route;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Live steps of all your orders from now on, each order gap-free by seq. Ends with an UNAUTHENTICATED error when the connection's token expires. */
  myOrderEvents: OrderEvent;
  /** History of your order after afterSeq, then live steps; completes after a terminal step. seq is gap-free: resume with afterSeq = the last seq you saw. Ends with an UNAUTHENTICATED error when the connection's token expires. */
  orderEvents: OrderEvent;
};


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

/** A DEX venue the router quotes. */
export type Venue = {
  __typename?: 'Venue';
  kind: Scalars['String']['output'];
  name: Scalars['String']['output'];
  poolCount: Scalars['Int']['output'];
};
