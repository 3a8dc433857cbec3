/** `@sessionkit/core/compaction`: the compaction store, where it cuts, and what a summarizer is told. */
export {
  CompactionStore,
  compactionCut,
  type CompactionPhase,
  type CompactionResult,
  type SummarizeContext,
} from '../decorators/compaction.js';
export {
  openAICompactSummarizer,
  toResponsesInput,
  type OpenAICompactClient,
  type OpenAICompactSummarizerOptions,
} from '../openai-compact-summarizer.js';
