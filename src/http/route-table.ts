import FindMyWay from 'find-my-way';

/** Fastify's default is 100 characters, under the longest valid clientId (255). */
export const MAX_PARAM_LENGTH = 16_384;

/**
 * The methods each path answers, for 405 with Allow: Fastify sends a method a path does not have
 * to the not-found handler, like a path it does not have. A second router (find-my-way, Fastify's
 * own) holds every route's method and URL pattern, so a path matches here exactly as it does there.
 */
export function createRouteTable() {
  const router = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  const methods = new Set<string>();
  /** Every path segment that some route names literally (`api-clients`, `bulk-delete`, ...). */
  const literals = new Set<string>();
  return {
    add(method: string | string[], url: string): void {
      // the CORS preflight route answers OPTIONS on every path: it says nothing about a resource
      if (url === '*') return;
      for (const segment of url.split('/')) if (segment && !segment.startsWith(':')) literals.add(segment);
      for (const one of [method].flat()) {
        router.on(one as FindMyWay.HTTPMethod, url, () => undefined);
        methods.add(one);
      }
    },
    /** Whether some route has this text as a literal segment of its path. */
    isLiteralSegment: (value: string): boolean => literals.has(value),
    /**
     * The methods the path has, sorted; empty when no route has the path. Only the most specific
     * patterns that match count: `.../api-clients/bulk-delete` is the bulk-delete resource, and the
     * pattern `.../api-clients/{clientId}`, which only happens to match it too, adds no method.
     */
    allowed(path: string): string[] {
      const found = [...methods].flatMap((method) => {
        const match = router.find(method as FindMyWay.HTTPMethod, path);
        return match ? [{ method, params: Object.keys(match.params).length }] : [];
      });
      const fewest = Math.min(...found.map((one) => one.params));
      return found
        .filter((one) => one.params === fewest)
        .map((one) => one.method)
        .sort();
    },
  };
}
export type RouteTable = ReturnType<typeof createRouteTable>;
