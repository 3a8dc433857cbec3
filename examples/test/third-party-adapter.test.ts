import { describeConformance } from '@sessionkit/conformance';
// @ts-expect-error: plain JavaScript, as a third party might ship it; no declarations.
import { harness } from '../third-party-adapter/harness.mjs';

describeConformance('FileStore (third-party example)', harness);
