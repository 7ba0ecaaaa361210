/** WebSocket close codes the gateway sends (RFC 6455 §7.4 and the private 4000-4999 range). */
export const CloseCode = {
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  REPLACED: 4001,
  KICKED: 4003,
  TOKEN_EXPIRED: 4401,
} as const;
