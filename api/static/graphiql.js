// The GraphiQL page's own script, in place of the one on Strawberry's page
// (api/graphiql.py fills in the two constants below, per server).

// The query the first tab opens with: how to get a token, then a lookup.
const EXAMPLE_QUERY = ``;
// {"tabs": the docs' example operations, one tab each ({query, variables}); on a
// development server only. "headersFromAddress": whether the address may fill in the
// headers (the one `vastfolket serve` prints carries the development token), and whether
// the browser keeps them: a development token, never an official's (the next person at a
// shared desk would find it there).}
const PAGE = {"tabs": [], "headersFromAddress": false};

// The address's parameters, read as Strawberry's page reads them; one with a broken
// escape (a chat client or a tracker added to the link) is passed over, not the page's end.
const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  try {
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
        entry.slice(eq + 1),
      );
    }
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
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
const namespaced = GraphiQL.createLocalStorage({
  namespace: `vastfolket-${digest(JSON.stringify(tabs))}`,
});

// GraphiQL's history keeps each run's headers whatever shouldPersistHeaders says: where
// the headers are not to be kept, they are taken out of it before it is stored.
const HISTORY = /:(queries|favorites)$/;
function keepingNoHeaders(store) {
  return {
    getItem: (key) => store.getItem(key),
    removeItem: (key) => store.removeItem(key),
    clear: () => store.clear(),
    get length() {
      return store.length;
    },
    setItem(key, value) {
      const history = HISTORY.exec(key);
      if (history) {
        const kept = JSON.parse(value);
        for (const run of kept[history[1]] || []) delete run.headers;
        value = JSON.stringify(kept);
      }
      store.setItem(key, value);
    },
  };
}
const storage = PAGE.headersFromAddress ? namespaced : keepingNoHeaders(namespaced);

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
    shouldPersistHeaders: PAGE.headersFromAddress,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(VastfolketGraphiQL),
);
