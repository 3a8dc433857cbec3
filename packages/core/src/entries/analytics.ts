/** `@sessionkit/core/analytics`: the analytics store's figures and events, tokenizers, and what kind an item is. */
export {
  AnalyticsStore,
  type AnalyticsDelta,
  type AnalyticsEvent,
  type GetAnalyticsOptions,
  type SessionAnalytics,
} from '../decorators/analytics.js';
export { estimateItemTokens, estimateTokens, heuristicTokenizer, itemText, type Tokenizer } from '../token-estimate.js';
export { tiktokenTokenizer, type TiktokenEncodingName } from '../tiktoken-tokenizer.js';
export {
  itemCallId,
  itemRole,
  itemType,
  isToolCall,
  isToolOutput,
  TOOL_CALL_TYPES,
  TOOL_OUTPUT_TYPES,
} from '../item-kinds.js';
