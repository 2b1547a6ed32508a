/** Entry of the reference workspace server bundle (dist/server.js); see cli.ts. */
import { main } from './cli';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
