import { SessionError, SessionErrorCode } from './errors.js';
import type { Tokenizer } from './token-estimate.js';

/** The encodings js-tiktoken ships. `o200k_base`: GPT-4o, GPT-4.1, GPT-5, o-series; `cl100k_base`: GPT-4, GPT-3.5. */
export type TiktokenEncodingName = 'o200k_base' | 'cl100k_base' | 'p50k_base' | 'p50k_edit' | 'r50k_base' | 'gpt2';

// A rejection passed on as it is: tiktokenTokenizer reports it.
const rethrow = (error: unknown): never => {
  throw error;
};

// Literal specifiers, one per encoding, so bundlers see each import and only the chosen ranks load. Each
// import() carries its own .catch (js-tiktoken/lite's too, below): esbuild then treats a js-tiktoken that is
// not installed as a failure at run time, not a build error, so an app that imports
// @sessionkit/core/analytics without js-tiktoken still bundles.
const RANKS: Record<TiktokenEncodingName, () => Promise<{ default: unknown }>> = {
  o200k_base: () => import('js-tiktoken/ranks/o200k_base').catch(rethrow),
  cl100k_base: () => import('js-tiktoken/ranks/cl100k_base').catch(rethrow),
  p50k_base: () => import('js-tiktoken/ranks/p50k_base').catch(rethrow),
  p50k_edit: () => import('js-tiktoken/ranks/p50k_edit').catch(rethrow),
  r50k_base: () => import('js-tiktoken/ranks/r50k_base').catch(rethrow),
  gpt2: () => import('js-tiktoken/ranks/gpt2').catch(rethrow),
};

/**
 * A real tokenizer for `withAnalytics` / `estimateTokens` / compaction
 * thresholds: exact token counts of OpenAI's BPE encodings through
 * js-tiktoken (an optional peer dependency: `npm i js-tiktoken`; its ranks
 * ship in the package, no download). Loads the encoding once; the returned
 * tokenizer is synchronous. Text that looks like a special token
 * (`<|endoftext|>`) is counted as ordinary text, never refused.
 * Default encoding: `o200k_base`.
 */
export async function tiktokenTokenizer(encoding: TiktokenEncodingName = 'o200k_base'): Promise<Tokenizer> {
  if (typeof encoding !== 'string' || !Object.hasOwn(RANKS, encoding)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, `encoding must be one of ${Object.keys(RANKS).join(', ')}`);
  }
  let lite: typeof import('js-tiktoken/lite');
  let ranks: unknown;
  try {
    [lite, { default: ranks }] = await Promise.all([import('js-tiktoken/lite').catch(rethrow), RANKS[encoding]()]);
  } catch (cause) {
    throw new SessionError(SessionErrorCode.Unsupported, 'tiktokenTokenizer needs the js-tiktoken package installed (npm i js-tiktoken)', {
      cause,
    });
  }
  const tiktoken = new lite.Tiktoken(ranks as ConstructorParameters<typeof lite.Tiktoken>[0]);
  // allowedSpecial [] and disallowedSpecial []: special-token text is plain text, so user content never throws.
  return (text) => tiktoken.encode(text, [], []).length;
}
