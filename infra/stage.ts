/**
 * Deployment stage: read once from CDK context and turned into the few settings that
 * differ between stages or deployments. Everything stage-dependent in `infra/` reads
 * it from here, so every knob an operator has is listed in this one file.
 *
 * Context keys (`cdk.json` or `-c key=value`; all optional):
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `stage` | `dev` | stage name, part of every stack name; only `dev` is disposable |
 * | `domainName` + `certificateArn` | none | custom domain of the API (both or neither); `BASE_URL` becomes `https://{domainName}` |
 * | `throttleRateLimit` / `throttleBurstLimit` | 500 / 1000 | default route throttling of the API stage (requests per second / burst) |
 * | `loginThrottleRateLimit` / `loginThrottleBurstLimit` | 200 / 400 | throttling of each public login route (ACS, OIDC callback, login starts, discover), each on its own |
 * | `alarmEmail` | none | email address subscribed to the alarm topic |
 * | `failedLoginAlarmThreshold` | 100 | failed logins per 5 minutes that raise the failed-login alarm |
 * | `logRetentionDays` | 30 | retention of every log group (a value CloudWatch Logs accepts) |
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/** A custom domain for the API: an ACM certificate in the API's region that covers the name. */
export interface CustomDomain {
  /** e.g. `sso.example.com`. */
  readonly domainName: string;
  /** ARN of the ACM certificate for `domainName`, in the same region as the API. */
  readonly certificateArn: string;
}

/** Settings derived from the `stage` context value and the other context keys. */
export interface StageConfig {
  /** Stage name, e.g. `dev`, `prod`; part of every stack name. */
  readonly stage: string;
  /** `dev` is disposable: its stateful resources are destroyed with the stack. */
  readonly isDev: boolean;
  /** Removal policy of stateful resources (tables, secret, log groups). */
  readonly removalPolicy: RemovalPolicy;
  /** The API's custom domain, when one is configured. */
  readonly domain?: CustomDomain;
  /** Default throttling of every route of the API stage. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Throttling of each unauthenticated login route (`LOGIN_ROUTE_KEYS` in api-stack.ts), each route its own bucket. */
  readonly loginThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Email address that receives the alarms, when one is configured. */
  readonly alarmEmail?: string;
  /** Failed logins in 5 minutes above which the failed-login alarm fires. */
  readonly failedLoginAlarmThreshold: number;
  /** Retention of every log group of the stage. */
  readonly logRetention: RetentionDays;
}

/** Everything but the stage name; what is not given takes its default. */
export type StageOptions = Partial<Omit<StageConfig, 'stage' | 'isDev' | 'removalPolicy'>>;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CERTIFICATE_ARN_PATTERN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Defaults: sized for the benchmark's login burst (README "Scaling limits"). */
export const STAGE_DEFAULTS = {
  throttle: { rateLimit: 500, burstLimit: 1000 },
  // Above the ~170 logins/s of the planned burst, far below what junk could otherwise push through.
  loginThrottle: { rateLimit: 200, burstLimit: 400 },
  failedLoginAlarmThreshold: 100,
  logRetention: RetentionDays.ONE_MONTH,
} as const;

/**
 * Builds the stage settings for a stage name and options.
 * @throws when the name is not lowercase letters, digits and dashes (it ends up in
 *   stack and resource names), or an option is malformed.
 * @example stageConfig('prod', { domain: { domainName: 'sso.example.com', certificateArn } })
 */
export function stageConfig(stage: string, options: StageOptions = {}): StageConfig {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`Invalid stage "${stage}": use 1-20 lowercase letters, digits or dashes, starting with a letter.`);
  }
  const { domain, alarmEmail } = options;
  if (domain && !DOMAIN_PATTERN.test(domain.domainName)) throw new Error(`Invalid domainName "${domain.domainName}".`);
  if (domain && !CERTIFICATE_ARN_PATTERN.test(domain.certificateArn)) {
    throw new Error(`Invalid certificateArn "${domain.certificateArn}": expected arn:aws:acm:{region}:{account}:certificate/{id}.`);
  }
  if (alarmEmail !== undefined && !EMAIL_PATTERN.test(alarmEmail)) throw new Error(`Invalid alarmEmail "${alarmEmail}".`);
  const throttle = options.throttle ?? STAGE_DEFAULTS.throttle;
  if (throttle.burstLimit < throttle.rateLimit) {
    throw new Error(`throttleBurstLimit (${throttle.burstLimit}) must be at least throttleRateLimit (${throttle.rateLimit}).`);
  }
  const loginThrottle = options.loginThrottle ?? STAGE_DEFAULTS.loginThrottle;
  if (loginThrottle.burstLimit < loginThrottle.rateLimit) {
    throw new Error(`loginThrottleBurstLimit (${loginThrottle.burstLimit}) must be at least loginThrottleRateLimit (${loginThrottle.rateLimit}).`);
  }
  const logRetention = options.logRetention ?? STAGE_DEFAULTS.logRetention;
  if (!(Object.values(RetentionDays) as unknown[]).includes(logRetention)) {
    throw new Error(`Invalid logRetentionDays ${logRetention}: use a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …).`);
  }
  const isDev = stage === 'dev';
  return {
    stage,
    isDev,
    removalPolicy: isDev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...(domain ? { domain } : {}),
    throttle,
    loginThrottle,
    ...(alarmEmail ? { alarmEmail } : {}),
    failedLoginAlarmThreshold: options.failedLoginAlarmThreshold ?? STAGE_DEFAULTS.failedLoginAlarmThreshold,
    logRetention,
  };
}

/** Reads the stage and its options from CDK context (`cdk.json`, or `-c key=value`); see the module header. */
export function stageFromContext(node: Node): StageConfig {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`Context "${key}" must be a string.`);
    return value;
  };
  // `-c key=500` arrives as a string, `cdk.json` may hold a number.
  const count = (key: string): number | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
    if (!Number.isInteger(number) || number <= 0) throw new Error(`Context "${key}" must be a positive whole number, not ${String(value)}.`);
    return number;
  };

  const domainName = text('domainName');
  const certificateArn = text('certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new Error('Give both domainName and certificateArn for a custom domain, or neither.');
  }
  const rateLimit = count('throttleRateLimit') ?? STAGE_DEFAULTS.throttle.rateLimit;
  const burstLimit = count('throttleBurstLimit') ?? Math.max(STAGE_DEFAULTS.throttle.burstLimit, rateLimit);
  const loginRateLimit = count('loginThrottleRateLimit') ?? STAGE_DEFAULTS.loginThrottle.rateLimit;
  const loginBurstLimit = count('loginThrottleBurstLimit') ?? Math.max(STAGE_DEFAULTS.loginThrottle.burstLimit, loginRateLimit);
  const alarmEmail = text('alarmEmail');
  const failedLoginAlarmThreshold = count('failedLoginAlarmThreshold');
  const logRetention = count('logRetentionDays') as RetentionDays | undefined;
  return stageConfig(text('stage') ?? 'dev', {
    ...(domainName && certificateArn ? { domain: { domainName, certificateArn } } : {}),
    throttle: { rateLimit, burstLimit },
    loginThrottle: { rateLimit: loginRateLimit, burstLimit: loginBurstLimit },
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(failedLoginAlarmThreshold ? { failedLoginAlarmThreshold } : {}),
    ...(logRetention ? { logRetention } : {}),
  });
}
