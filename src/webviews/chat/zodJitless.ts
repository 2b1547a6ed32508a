/**
 * Imported first by main.ts, before any schema is built: zod's object parser otherwise probes
 * `new Function('')`, which a strict CSP (no 'unsafe-eval') reports as a violation even though the
 * probe's error is caught. Jitless parsing is plenty fast for our message sizes.
 */
import { z } from 'zod';

z.config({ jitless: true });
