/**
 * A Host header as browsers send it: a host name, IPv4 address or bracketed IPv6 address, and an
 * optional port. Anything else (a forged header) gets the policy without a WebSocket source.
 */
const HOST_PATTERN = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** CSP source expressions end at whitespace, `;` and `,`: anything else in a path is percent-encoded. */
function cspPath(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~!$&'()*+=:@/%]/g, (c) => encodeURIComponent(c));
}

/**
 * The chat page's Content-Security-Policy: scripts, styles and images from this origin only (no
 * inline code), and connections to this host's WebSocket endpoint only (`ws:` or `wss:` behind a
 * TLS proxy). The page can be neither framed nor used to post a form elsewhere.
 */
export function pageContentSecurityPolicy(host: string | undefined, wsPath: string): string {
  const path = cspPath(wsPath);
  const sockets = host !== undefined && HOST_PATTERN.test(host) ? `ws://${host}${path} wss://${host}${path}` : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
