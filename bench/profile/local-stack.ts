/**
 * Profiling driver (not part of `npm run bench`): `npm start` under `node --cpu-prof`, a
 * warm-up, then a burst of first logins and a burst of returning logins over HTTP. The
 * profile covers the server's whole life; pass the printed `--from-ms` to the summary so
 * only the measured bursts count:
 *
 *   npx tsx bench/profile/local-stack.ts /tmp/prof-stack [logins]
 *   npx tsx bench/profile/summary.ts /tmp/prof-stack/*.cpuprofile --from-ms <printed>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { burst, signer, startLocalStack, users } from '../login-cpu.js';

const dir = process.argv[2] ?? 'prof-stack';
const logins = Number(process.argv[3] ?? 1000);
const CONCURRENCY = 8;

const stack = await startLocalStack(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
try {
  const sign = signer(stack);
  const warm = users('warm', 100);
  const measured = users('prof', logins);
  const [warmFirst, warmAgain, first, again] = [sign(warm), sign(warm), sign(measured), sign(measured)];
  await burst(stack, warmFirst, CONCURRENCY);
  await burst(stack, warmAgain, CONCURRENCY);
  await sleep(500);
  const fromMs = Math.round(performance.now() - stack.spawnedAt);
  const firstBurst = await burst(stack, first, CONCURRENCY);
  const againBurst = await burst(stack, again, CONCURRENCY);
  process.stderr.write(
    `first logins: ${(firstBurst.cpuMs / logins).toFixed(2)} ms server CPU each (system ${(firstBurst.systemCpuMs / logins).toFixed(2)}); returning: ${(againBurst.cpuMs / logins).toFixed(2)} ms (system ${(againBurst.systemCpuMs / logins).toFixed(2)}); errors ${JSON.stringify({ ...firstBurst.errors, ...againBurst.errors })}\n` +
      `profile in ${dir}; summarise with --from-ms ${fromMs}\n`,
  );
} finally {
  await stack.stop();
}
