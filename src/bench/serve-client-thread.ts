// Worker entry of the serving benchmark's client: runs one ClientJob and posts its result.
import { parentPort, workerData } from 'node:worker_threads';
import { runClient, type ClientJob } from './serve-client.js';

parentPort!.postMessage(await runClient(workerData as ClientJob));
