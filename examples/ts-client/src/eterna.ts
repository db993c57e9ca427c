// A small typed transport for Eterna: queries and mutations over HTTP with fetch,
// subscriptions over graphql-ws (the graphql-transport-ws protocol) with the ws package.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

/** A GraphQL error answer: the messages and codes (extensions.code) the server gave. */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: ReadonlyArray<{ message: string; extensions?: { code?: unknown } }>,
  ) {
    super(errors.map((e) => `${e.message} (${String(e.extensions?.code ?? "no code")})`).join("; "));
    this.name = "GraphQLRequestError";
  }
}

interface Answer<TResult> {
  data?: TResult | null;
  errors?: ReadonlyArray<{ message: string; extensions?: { code?: unknown } }>;
}

/** Return the websocket address of a GraphQL HTTP address (same path, ws or wss). */
export function websocketUrl(url: string): string {
  return url.replace(/^http(s?):\/\//, "ws$1://");
}

/** An authenticated connection to one Eterna GraphQL endpoint. */
export class EternaClient {
  private readonly ws: Client;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    this.ws = createClient({
      url: websocketUrl(url),
      webSocketImpl: WebSocket,
      // The server reads the token from connection_init, as browsers cannot set headers.
      connectionParams: { Authorization: `Bearer ${token}` },
      lazy: true,
      retryAttempts: 0,
    });
  }

  /** Run a query or mutation over HTTP and return its data, or throw its errors. */
  async request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    if (!response.ok && response.status !== 400) {
      throw new Error(`HTTP ${response.status} from ${this.url}`);
    }
    const answer = (await response.json()) as Answer<TResult>;
    if (answer.errors?.length) throw new GraphQLRequestError(answer.errors);
    if (answer.data == null) throw new Error(`no data from ${this.url}`);
    return answer.data;
  }

  /** Subscribe and yield every result until the server completes the subscription. */
  async *subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): AsyncGenerator<TResult> {
    for await (const answer of this.ws.iterate<TResult>({ query: print(document), variables })) {
      if (answer.errors?.length) throw new GraphQLRequestError(answer.errors);
      if (answer.data != null) yield answer.data;
    }
  }

  /** Close the websocket, ending any subscription still open. */
  async close(): Promise<void> {
    await this.ws.dispose();
  }
}
