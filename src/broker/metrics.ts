/**
 * The broker's Prometheus metrics, on a registry of its own (nothing global). Labels carry key
 * names, routes, outcomes and error codes: never a token, a key or a secret.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly refreshes: Counter<string>;
  readonly refreshFailures: Counter<'code'>;
  readonly throttles: Counter<string>;
  readonly cacheHits: Counter<string>;
  readonly cacheMisses: Counter<string>;
  readonly requests: Counter<'route' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly authFailures: Counter<'reason'>;
  readonly refreshesInFlight: Gauge<string>;

  /** `needingReauthorization` counts the tokens Zoho refused to refresh (read at each scrape). */
  constructor(needingReauthorization: () => number) {
    const registers = [this.registry];
    this.refreshes = new Counter({ name: 'ztoken_refreshes_total', help: 'Access tokens obtained from Zoho by this broker', registers });
    this.refreshFailures = new Counter({
      name: 'ztoken_refresh_failures_total',
      help: 'Failed refreshes and token lookups, by error code',
      labelNames: ['code'],
      registers,
    });
    this.throttles = new Counter({ name: 'ztoken_throttles_total', help: 'Refreshes Zoho throttled (Access Denied)', registers });
    this.cacheHits = new Counter({
      name: 'ztoken_cache_hits_total',
      help: 'Requests answered with the access token this broker had already served',
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'ztoken_cache_misses_total',
      help: 'Requests answered with an access token this broker had not served before',
      registers,
    });
    this.requests = new Counter({
      name: 'ztoken_broker_requests_total',
      help: 'HTTP requests, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'ztoken_broker_request_duration_seconds',
      help: 'HTTP request latency, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.authFailures = new Counter({
      name: 'ztoken_broker_auth_failures_total',
      help: 'Requests refused for a missing or wrong key, or rate-limited after wrong keys',
      labelNames: ['reason'],
      registers,
    });
    this.refreshesInFlight = new Gauge({
      name: 'ztoken_refreshes_in_flight',
      help: "Calls to Zoho's token endpoint this broker is waiting on",
      registers,
    });
    new Gauge({
      name: 'ztoken_tokens_needing_reauthorization',
      help: 'Stored tokens whose refresh token Zoho rejected: the user must authorize again',
      registers,
      collect() {
        this.set(needingReauthorization());
      },
    });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
