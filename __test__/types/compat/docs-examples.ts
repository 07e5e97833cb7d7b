// The examples of the node:cluster documentation (v21), as TypeScript, using
// the default import. Each example is wrapped in a function so that they can
// share one file; none of this is run, only type-checked. Node modules are
// imported with `import * as` so the file also compiles without
// esModuleInterop.
import cluster from 'rust-cluster';
import * as http from 'node:http';
import * as net from 'node:net';
import { availableParallelism } from 'node:os';

export function httpServer(): void {
  const numCPUs = availableParallelism();
  if (cluster.isPrimary) {
    console.log(`Primary ${process.pid} is running`);
    for (let i = 0; i < numCPUs; i++) {
      cluster.fork();
    }
    cluster.on('exit', (worker, code, signal) => {
      console.log(`worker ${worker.process.pid} died`);
    });
  } else {
    http
      .createServer((req, res) => {
        res.writeHead(200);
        res.end('hello world\n');
      })
      .listen(8000);
    console.log(`Worker ${process.pid} started`);
  }
}

export function workerDisconnectEvent(): void {
  cluster.fork().on('disconnect', () => {
    // Worker has disconnected
  });
}

export function workerExitEvent(): void {
  if (cluster.isPrimary) {
    const worker = cluster.fork();
    worker.on('exit', (code, signal) => {
      if (signal) {
        console.log(`worker was killed by signal: ${signal}`);
      } else if (code !== 0) {
        console.log(`worker exited with error code: ${code}`);
      } else {
        console.log('worker success!');
      }
    });
  }
}

export function workerListeningAndOnline(): void {
  cluster.fork().on('listening', (address) => {
    console.log(address.address, address.port, address.addressType);
  });
  cluster.fork().on('online', () => {
    // Worker is online
  });
}

export function countRequests(): void {
  if (cluster.isPrimary) {
    let numReqs = 0;
    setInterval(() => {
      console.log(`numReqs = ${numReqs}`);
    }, 1000);

    function messageHandler(msg: any) {
      if (msg.cmd && msg.cmd === 'notifyRequest') {
        numReqs += 1;
      }
    }

    const numCPUs = availableParallelism();
    for (let i = 0; i < numCPUs; i++) {
      cluster.fork();
    }

    for (const id in cluster.workers) {
      cluster.workers[id]!.on('message', messageHandler);
    }
  } else {
    new http.Server((req, res) => {
      res.writeHead(200);
      res.end('hello world\n');
      process.send!({ cmd: 'notifyRequest' });
    }).listen(8000);
  }
}

export function gracefulDisconnect(): void {
  if (cluster.isPrimary) {
    const worker = cluster.fork();
    let timeout: NodeJS.Timeout;

    worker.on('listening', (address) => {
      worker.send('shutdown');
      worker.disconnect();
      timeout = setTimeout(() => {
        worker.kill();
      }, 2000);
    });

    worker.on('disconnect', () => {
      clearTimeout(timeout);
    });
  } else if (cluster.isWorker) {
    const server = net.createServer((socket) => {
      // Connections never end
    });
    server.listen(8000);
    process.on('message', (msg) => {
      if (msg === 'shutdown') {
        // Initiate graceful close of any connections to server
      }
    });
  }
}

export function exitedAfterDisconnect(): void {
  cluster.on('exit', (worker, code, signal) => {
    if (worker.exitedAfterDisconnect === true) {
      console.log('Oh, it was just voluntary – no need to worry');
    }
  });
  const worker = cluster.fork();
  worker.kill();
}

export function isDead(): void {
  const numCPUs = availableParallelism();
  if (cluster.isPrimary) {
    console.log(`Primary ${process.pid} is running`);
    for (let i = 0; i < numCPUs; i++) {
      cluster.fork();
    }
    cluster.on('fork', (worker) => {
      console.log('worker is dead:', worker.isDead());
    });
    cluster.on('exit', (worker, code, signal) => {
      console.log('worker is dead:', worker.isDead());
    });
  } else {
    http
      .createServer((req, res) => {
        res.writeHead(200);
        res.end(`Current process\n ${process.pid}`);
        process.kill(process.pid);
      })
      .listen(8000);
  }
}

export function echo(): void {
  if (cluster.isPrimary) {
    const worker = cluster.fork();
    worker.send('hi there');
  } else if (cluster.isWorker) {
    process.on('message', (msg) => {
      process.send!(msg as object);
    });
  }
}

export function clusterEvents(): void {
  cluster.on('disconnect', (worker) => {
    console.log(`The worker #${worker.id} has disconnected`);
  });

  cluster.on('exit', (worker, code, signal) => {
    console.log('worker %d died (%s). restarting...', worker.process.pid, signal || code);
    cluster.fork();
  });

  const timeouts: NodeJS.Timeout[] = [];
  function errorMsg() {
    console.error('Something must be wrong with the connection ...');
  }
  cluster.on('fork', (worker) => {
    timeouts[worker.id] = setTimeout(errorMsg, 2000);
  });
  cluster.on('listening', (worker, address) => {
    clearTimeout(timeouts[worker.id]);
    console.log(`A worker is now connected to ${address.address}:${address.port}`);
  });
  cluster.on('exit', (worker, code, signal) => {
    clearTimeout(timeouts[worker.id]);
    errorMsg();
  });

  cluster.on('online', (worker) => {
    console.log('Yay, the worker responded after it was forked');
  });
  cluster.on('setup', (settings) => {
    console.log(settings.exec, settings.args);
  });
  cluster.on('message', (worker, message, handle) => {
    console.log(worker.id, message, handle);
  });
}

export function disconnectAll(): void {
  cluster.disconnect();
  cluster.disconnect(() => console.log('all workers disconnected'));
}

export function setupPrimary(): void {
  cluster.setupPrimary({
    exec: 'worker.js',
    args: ['--use', 'https'],
    silent: true,
  });
  cluster.fork(); // https worker
  cluster.setupPrimary({
    exec: 'worker.js',
    args: ['--use', 'http'],
  });
  cluster.fork(); // http worker
  cluster.setupMaster({ exec: 'worker.js' });
}

export function currentWorker(): void {
  if (cluster.isPrimary) {
    console.log('I am primary');
    cluster.fork();
    cluster.fork();
  } else if (cluster.isWorker) {
    console.log(`I am worker #${cluster.worker!.id}`);
  }
}

export function announce(): void {
  for (const worker of Object.values(cluster.workers!)) {
    worker!.send('big announcement to all workers');
  }
}

export function policy(): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const master: boolean = cluster.isMaster;
  console.log(master, cluster.settings.exec, cluster.settings.execArgv);
}
