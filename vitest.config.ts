import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs training and real nats-server runs are slow on 2 cores; per-test timeouts are set
    // where a test needs more.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests start their own nats-server and worker processes; running them
    // side by side on 2 cores only makes each slower.
    fileParallelism: false,
  },
});
