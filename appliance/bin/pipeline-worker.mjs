// Worker-thread entry of the embedded pipeline: registers tsx in this thread, then hands over.
import { register } from 'tsx/esm/api';

register();
await import('../main/pipeline-worker.ts');
