import type { Config } from '../config/schema.js';
export async function recsEval(_config: Config, _o: unknown): Promise<number> {
  console.error('storepulse: recs eval is not built yet');
  return 1;
}
