// Worker-thread entry of the explore engine: registers tsx in this thread, then hands over.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
