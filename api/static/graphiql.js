// The GraphiQL page's own script, in place of the one on Strawberry's page
// (api/graphiql.py fills in the two constants below, per server).

// The query the first tab opens with: how to get a token, then a lookup.
const EXAMPLE_QUERY = ``;
// {"tabs": the docs' example operations, one tab each ({query, variables}); on a
// development server only. "headersFromAddress": whether the address may fill in the
// headers (the one `vastfolket serve` prints carries the development token).}
const PAGE = {"tabs": [], "headersFromAddress": false};

// The address's parameters, read as Strawberry's page reads them.
const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  if (eq >= 0) {
    parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
      entry.slice(eq + 1),
    );
  }
}
const headers = (PAGE.headersFromAddress && parameters.headers) || "";

const fetchURL = window.location.href.split("?")[0];
const subscriptionURL = new URL(fetchURL);
subscriptionURL.protocol = subscriptionURL.protocol === "http:" ? "ws:" : "wss:";
subscriptionURL.hash = "";
// A subscription sends the tab's headers as connection_init's payload, where the API
// reads the token of a WebSocket.
const fetcher = GraphiQL.createFetcher({
  url: fetchURL,
  subscriptionUrl: subscriptionURL.toString(),
});

const tabs = [{ query: EXAMPLE_QUERY }, ...PAGE.tabs].map((tab) => ({ ...tab, headers }));

// GraphiQL reopens the tabs it stored rather than these. They are stored under a name
// of their own, so changed examples (or a new token) open as given; edits stay as long
// as the examples and the token do.
function digest(text) {
  let hash = 0;
  for (const character of text) {
    hash = (Math.imul(31, hash) + character.codePointAt(0)) | 0;
  }
  return (hash >>> 0).toString(36);
}
const storage = GraphiQL.createLocalStorage({
  namespace: `vastfolket-${digest(JSON.stringify(tabs))}`,
});

const explorer = GraphiQLPluginExplorer.explorerPlugin();

function VastfolketGraphiQL() {
  return React.createElement(GraphiQL, {
    fetcher,
    defaultTabs: tabs,
    // The editor opens on the first tab's query but these headers (and a new tab's).
    defaultHeaders: headers,
    storage,
    plugins: [explorer],
    defaultEditorToolsVisibility: true,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(VastfolketGraphiQL),
);
