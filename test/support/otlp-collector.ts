// An OTLP/HTTP trace receiver for tests: POST /v1/traces in JSON (the service with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json) or in protobuf (Keycloak's exporter), every span kept
// flat with its service's name. The protobuf side reads the few fields of
// ExportTraceServiceRequest it needs straight from the wire format (opentelemetry-proto's
// trace/v1 and common/v1 messages), so no generated code is needed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, string | number | boolean | undefined>;
  /** The resource's service.name. */
  service: string;
}

export interface Collector {
  url: string;
  spans: CollectedSpan[];
  /** Every body received, as text (JSON) or latin1 (protobuf), to search for secrets. */
  bodies: string[];
  close(): Promise<void>;
}

interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
type JsonAttributes = Array<{ key: string; value: OtlpJsonValue }> | undefined;

const jsonValue = (value: OtlpJsonValue) =>
  value.stringValue ??
  (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value.boolValue ??
  value.doubleValue;
const jsonAttributes = (attributes: JsonAttributes) =>
  Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, jsonValue(value)]));

function fromJson(body: string): CollectedSpan[] {
  const request = JSON.parse(body) as {
    resourceSpans: Array<{
      resource: { attributes: JsonAttributes };
      scopeSpans: Array<{
        spans: Array<{
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          startTimeUnixNano: string;
          endTimeUnixNano: string;
          attributes: JsonAttributes;
        }>;
      }>;
    }>;
  };
  return request.resourceSpans.flatMap((resource) => {
    const service = String(jsonAttributes(resource.resource.attributes)['service.name']);
    return resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        startTimeUnixNano: BigInt(span.startTimeUnixNano),
        endTimeUnixNano: BigInt(span.endTimeUnixNano),
        attributes: jsonAttributes(span.attributes),
        service,
      })),
    );
  });
}

/** One protobuf message's fields: number → the values seen (varints and fixed as bigint, the rest as bytes). */
function fields(buffer: Buffer): Map<number, Array<bigint | Buffer>> {
  const found = new Map<number, Array<bigint | Buffer>>();
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[offset++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const field = Number(key >> 3n);
    let value: bigint | Buffer;
    switch (Number(key & 7n)) {
      case 0:
        value = varint();
        break;
      case 1:
        value = buffer.readBigUInt64LE(offset);
        offset += 8;
        break;
      case 2: {
        const length = Number(varint());
        value = buffer.subarray(offset, offset + length);
        offset += length;
        break;
      }
      case 5:
        value = BigInt(buffer.readUInt32LE(offset));
        offset += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type in field ${field}`);
    }
    found.set(field, [...(found.get(field) ?? []), value]);
  }
  return found;
}

const messages = (values: Array<bigint | Buffer> | undefined): Buffer[] =>
  (values ?? []).filter((value): value is Buffer => Buffer.isBuffer(value));
const bytesOf = (values: Array<bigint | Buffer> | undefined): Buffer =>
  messages(values)[0] ?? Buffer.alloc(0);
const numberOf = (values: Array<bigint | Buffer> | undefined): bigint =>
  (values ?? []).find((value): value is bigint => typeof value === 'bigint') ?? 0n;

/** KeyValue { key = 1; AnyValue value = 2 { string = 1; bool = 2; int = 3; double = 4 } } */
function protobufAttributes(keyValues: Buffer[]): CollectedSpan['attributes'] {
  return Object.fromEntries(
    keyValues.map((keyValue) => {
      const entry = fields(keyValue);
      const value = fields(bytesOf(entry.get(2)));
      const decoded = value.has(1)
        ? bytesOf(value.get(1)).toString('utf8')
        : value.has(2)
          ? numberOf(value.get(2)) === 1n
          : value.has(3)
            ? Number(numberOf(value.get(3)))
            : undefined;
      return [bytesOf(entry.get(1)).toString('utf8'), decoded];
    }),
  );
}

/** ExportTraceServiceRequest { ResourceSpans resource_spans = 1 { Resource resource = 1; ScopeSpans scope_spans = 2 { Span spans = 2 } } } */
function fromProtobuf(body: Buffer): CollectedSpan[] {
  return messages(fields(body).get(1)).flatMap((resourceSpans) => {
    const resourceFields = fields(resourceSpans);
    const resource = fields(bytesOf(resourceFields.get(1)));
    const service = String(protobufAttributes(messages(resource.get(1)))['service.name']);
    return messages(resourceFields.get(2)).flatMap((scopeSpans) =>
      messages(fields(scopeSpans).get(2)).map((spanBytes) => {
        // Span { trace_id = 1; span_id = 2; parent_span_id = 4; name = 5; start = 7; end = 8; attributes = 9 }
        const span = fields(spanBytes);
        return {
          traceId: bytesOf(span.get(1)).toString('hex'),
          spanId: bytesOf(span.get(2)).toString('hex'),
          parentSpanId: bytesOf(span.get(4)).toString('hex'),
          name: bytesOf(span.get(5)).toString('utf8'),
          startTimeUnixNano: numberOf(span.get(7)),
          endTimeUnixNano: numberOf(span.get(8)),
          attributes: protobufAttributes(messages(span.get(9))),
          service,
        };
      }),
    );
  });
}

export async function startCollector(): Promise<Collector> {
  const spans: CollectedSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      try {
        if ((req.headers['content-type'] ?? '').includes('json')) {
          bodies.push(body.toString('utf8'));
          spans.push(...fromJson(body.toString('utf8')));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          bodies.push(body.toString('latin1'));
          spans.push(...fromProtobuf(body));
          // an empty ExportTraceServiceResponse
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const durationMs = (span: CollectedSpan): number =>
  Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;

/** A trace as an indented tree, `name (duration) [service]` per line, children by start time. */
export function drawTree(spans: CollectedSpan[], root: CollectedSpan, depth = 0): string[] {
  const children = spans
    .filter((span) => span.parentSpanId === root.spanId)
    .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
  const service =
    depth === 0 || spans.find((span) => span.spanId === root.parentSpanId)?.service !== root.service;
  return [
    `${'  '.repeat(depth)}${root.name} (${durationMs(root).toFixed(1)} ms)${service ? ` [${root.service}]` : ''}`,
    ...children.flatMap((child) => drawTree(spans, child, depth + 1)),
  ];
}
