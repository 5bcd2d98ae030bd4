// A third-party OSCQuery client's view of one server: oscquery 1.1.1 (jangxx/node-oscquery) browses
// zeroconf for _oscjson._tcp with bonjour-service, fetches / and /?HOST_INFO with axios and parses them
// into OSCNode objects. This script waits for the service on the given port and prints, as one JSON
// line, the host info and every method node exactly as the library parsed them (nothing re-parsed).
//
//   node discover.mjs PORT [TIMEOUT_SECONDS]
//
// Exit 0 with the JSON on stdout; exit 1 with a message on stderr when the service is not found in time.
import { OSCQueryDiscovery } from "oscquery";

const port = Number(process.argv[2]);
const seconds = Number(process.argv[3] ?? 20);
if (!Number.isInteger(port) || port <= 0 || !(seconds > 0)) {
    console.error("usage: node discover.mjs PORT [TIMEOUT_SECONDS]");
    process.exit(2);
}

const discovery = new OSCQueryDiscovery();
const errors = [];
discovery.on("error", (error) => errors.push(String(error?.message ?? error)));

let settled = false;

function finish(code, line, stream = process.stdout) {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    discovery.stop();
    stream.write(line + "\n", () => process.exit(code));
}

function report(service) {
    const info = service.hostInfo;
    const methods = service.flat().map((method) => ({
        full_path: method.full_path,
        access: method.access ?? null,
        description: method.description ?? null,
        arguments: (method.arguments ?? []).map((argument) => ({
            type: argument.type,
            range: argument.range ?? null,
            clipmode: argument.clipmode ?? null,
            value: argument.value === undefined ? null : argument.value,
            has_value: argument.value !== undefined,
        })),
    }));
    return {
        address: service.address,
        port: service.port,
        host_info: {
            name: info.name ?? null,
            oscIp: info.oscIp ?? null,
            oscPort: info.oscPort ?? null,
            oscTransport: info.oscTransport ?? null,
            wsIp: info.wsIp ?? null,
            wsPort: info.wsPort ?? null,
            extensions: info.extensions ?? null,
        },
        methods,
    };
}

let timedOut = false;

discovery.on("up", (service) => {
    if (service.port !== port || timedOut) return;
    let line;
    try {
        line = JSON.stringify(report(service));
    } catch (error) {
        finish(1, `discover.mjs: the library could not read the service on port ${port}: ${error?.stack ?? error}`, process.stderr);
        return;
    }
    finish(0, line);
});

// What bonjour-service itself announced, for the message on a timeout: the library drops the errors
// of its own queries (its catch calls `this.emit(err)`, an event nobody can name).
const announced = [];

const timer = setTimeout(async () => {
    timedOut = true;
    const ours = announced.filter((service) => service.port === port);
    const detail = [`zeroconf services seen: ${announced.map((s) => `${s.name} ${s.addresses.join("/")}:${s.port}`).join(", ") || "none"}`];
    for (const address of new Set(ours.flatMap((service) => service.addresses))) {
        // Seen but never "up": ask the library again, by hand, to learn why its query failed.
        try {
            await discovery.queryNewService(address, port);
            detail.push(`${address}: the query succeeds when repeated`);
        } catch (error) {
            detail.push(`${address}: ${error?.stack ?? error}`);
        }
    }
    if (errors.length) detail.push(`errors: ${errors.join("; ")}`);
    finish(1, `discover.mjs: no _oscjson._tcp service on port ${port} came up within ${seconds} s (${detail.join("; ")})`, process.stderr);
}, seconds * 1000);

discovery.start();
discovery._mdnsBrowser.on("up", (service) =>
    announced.push({ name: service.name, port: service.port, addresses: service.addresses ?? [] }),
);
