/** Cloudflare Workers (workerd) entry: `wrangler dev` serves this. */
import { createApp } from './app.ts';

export default createApp();
