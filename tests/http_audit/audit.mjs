// graphql-http's server audits against a running API: AUDIT_URL, with AUDIT_TOKEN sent as
// the bearer token on every request (the API answers no operation without one). Prints
// one JSON line: [{id, name, status, reason, httpStatus}] in the suite's order; the
// status is "ok", or "error" (a MUST), "warn" (a SHOULD), "notice" (a MAY) when failed.
import { serverAudits } from 'graphql-http';

const url = process.env.AUDIT_URL;
const token = process.env.AUDIT_TOKEN;
const requestTimeout = Number(process.env.AUDIT_REQUEST_TIMEOUT_MS ?? 10000);
if (!url || !token) {
  console.error('set AUDIT_URL and AUDIT_TOKEN');
  process.exit(2);
}

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(requestTimeout) });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  // One at a time: a failure names one request, and the server sees no burst.
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.reason ?? null,
    httpStatus: result.response?.status ?? null,
  });
}
console.log(JSON.stringify(results));
