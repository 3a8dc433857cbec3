// An app that imports @sessionkit/core/analytics (tokenizers, item kinds) without installing js-tiktoken.
// Bundled, the heuristic tokenizer works and tiktokenTokenizer says what to install.
import { heuristicTokenizer, tiktokenTokenizer } from '@sessionkit/core/analytics';

const tokens = heuristicTokenizer('hello from a bundle');
const tiktoken = await tiktokenTokenizer().then(
  () => 'loaded',
  (error) => error.code,
);
console.log(JSON.stringify({ heuristic: tokens > 0, tiktoken }));
