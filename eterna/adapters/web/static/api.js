// GraphQL over HTTP (queries, mutations) and over graphql-transport-ws (subscriptions).

const TOKEN_FIELDS = "mint symbol decimals";

export const ORDER_FIELDS = `id type status clientOrderId amountIn slippageBps limitPrice
  triggerPrice trailBps bestPrice expiresAt createdAt amountOut executedPrice txSignature failureReason
  allOrNone filledAmountIn remainingAmountIn
  parentId sliceIndex twap { slices durationSeconds nextSliceAt }
  progress { slicesPlaced slicesDone slicesFilled averagePrice }
  groupId tokenIn { ${TOKEN_FIELDS} } tokenOut { ${TOKEN_FIELDS} }`;

export const EVENT_FIELDS = `orderId seq status at attempt message error txSignature amountOut
  executedPrice fill { amountIn } quotes { venue pool amountOut fee priceImpactBps }
  route { amountIn amountOut minAmountOut priceImpactBps
    legs { venue pool amountIn amountOut fee tokenIn { symbol mint } tokenOut { symbol mint } } }`;

export const TOKENS = `query Tokens { tokens { ${TOKEN_FIELDS} } }`;
export const ORDERS = `query Orders($first: Int) {
  orders(first: $first) { edges { node { ${ORDER_FIELDS} } } } }`;
export const ORDER = `query Order($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
export const PLACE = `mutation Place($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { ${ORDER_FIELDS} } }
    ... on OrderRejected { code message field retryAfterSeconds }
  } }`;
export const CANCEL = `mutation Cancel($id: ID!) {
  cancelOrder(id: $id) {
    __typename
    ... on OrderCancelled { order { id status } }
    ... on CancelRejected { code message retryAfterSeconds }
  } }`;
export const MY_EVENTS = `subscription Mine { myOrderEvents { ${EVENT_FIELDS} } }`;
export const ORDER_EVENTS = `subscription History($orderId: ID!, $afterSeq: Int) {
  orderEvents(orderId: $orderId, afterSeq: $afterSeq) { ${EVENT_FIELDS} } }`;

/** GraphQL errors of a request (or a transport failure), with the server's codes. */
export class RequestError extends Error {
  constructor(errors) {
    const list = Array.isArray(errors) ? errors : [{ message: String(errors) }];
    super(list.map((e) => e.message).join("; "));
    this.name = "RequestError";
    this.code = list[0]?.extensions?.code ?? null;
  }
}

/** Run queries and mutations over HTTP with the user's token. */
export class Http {
  constructor(token) {
    this.token = token;
  }

  async run(query, variables = {}) {
    let response;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new RequestError(`the server did not answer (${err.message})`);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new RequestError(`HTTP ${response.status} without a GraphQL answer`);
    }
    if (body.errors?.length) throw new RequestError(body.errors);
    if (!response.ok || !body.data) throw new RequestError(`HTTP ${response.status}`);
    return body.data;
  }
}

/**
 * Open the page's websocket with the graphql-ws client. The token travels in the
 * connection_init payload, where the server reads it. `on` receives connection changes.
 */
export function openSocket(token, on) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return globalThis.graphqlWs.createClient({
    url: `${scheme}://${location.host}/graphql`,
    connectionParams: () => ({ Authorization: `Bearer ${token}` }),
    // Keep trying while the server restarts; a refusal (4403: the token, or too many
    // connections of this user) will not get better by itself.
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && event.code === 4403),
    // The library's wait doubles without bound; past a few tries, try every ~10 s.
    retryWait: (tries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** tries) + Math.random() * 500)),
    keepAlive: 15_000,
    on: {
      connecting: () => on("connecting"),
      connected: (_socket, _payload, wasRetry) => on("live", { wasRetry }),
      closed: (event) => on("closed", { code: event?.code, reason: event?.reason }),
    },
  });
}

/** Say why the server refused the connection (4403): its close reason, when it gave one. */
export function describeRefusal(reason) {
  const why = (reason ?? "").replace(/^Forbidden:?\s*/, "");
  return why ? `the server refused the connection: ${why}` : "the server refused the token";
}

/** Describe what ended a subscription: GraphQL errors, a close event or an Error. */
export function describeEnd(err) {
  if (Array.isArray(err)) return err.map((e) => e.message).join("; ");
  if (err && typeof err.code === "number") {
    if (err.code === 4403) return describeRefusal(err.reason);
    return `connection closed (${err.code}${err.reason ? `: ${err.reason}` : ""})`;
  }
  return err?.message ?? String(err);
}
