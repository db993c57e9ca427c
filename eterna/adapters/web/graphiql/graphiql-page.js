// GraphiQL's page at /graphql: the example comes from the page's JSON block (data, never
// run), and the Headers tab goes to connection_init too, so subscriptions authenticate with
// the token pasted there. Browsers cannot put headers on a websocket handshake.
"use strict";

const example = JSON.parse(document.getElementById("eterna-example").textContent);
// GraphiQL's menus add a <style> element carrying webpack's nonce: the page's policy admits
// this nonce, fresh per page, for styles only.
window.__webpack_nonce__ = example.styleNonce;
const url = window.location.href.split("?")[0].split("#")[0];
const socketUrl = url.replace(/^http/, "ws");

// A fetcher per operation: a websocket is opened per subscription with the headers of then.
const fetcher = (params, opts) =>
  GraphiQL.createFetcher({
    url,
    subscriptionUrl: socketUrl,
    wsConnectionParams: (opts && opts.headers) || {},
  })(params, opts);

function Playground() {
  const [query, setQuery] = React.useState(example.query);
  const [variables, setVariables] = React.useState(example.variables);
  return React.createElement(GraphiQL, {
    fetcher,
    query,
    variables,
    onEditQuery: setQuery,
    onEditVariables: setVariables,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    inputValueDeprecation: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(Playground));
