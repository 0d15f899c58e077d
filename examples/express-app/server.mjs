// `npm run example`: serves the example on http://localhost:3000 (PORT and HOST override).
import { createExampleApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? 'localhost';
const demoPassword = process.env.EXAMPLE_DEMO_PASSWORD ?? 'correct-horse-battery';

const example = await createExampleApp({ demoPassword, ...(process.env.EXAMPLE_DATA_DIR ? { dataDir: process.env.EXAMPLE_DATA_DIR } : {}) });
const server = example.app.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`sessionkit example app on http://${host === '127.0.0.1' ? '127.0.0.1' : 'localhost'}:${actual} (session store: ${example.storeKind})`);
  // A demo account of the example, not a secret of the system: printed so you can sign in.
  console.log(`demo user: ${example.demo.username}  password: ${example.demo.password}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    example.close().finally(() => process.exit(0));
  });
}
