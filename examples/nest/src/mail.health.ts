import { MailerHealthIndicator } from '@nestjs-modules/mailer';
import { Injectable } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';

/** What a `@Get('health') @HealthCheck()` controller method would return. */
@Injectable()
export class MailHealth {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mailer: MailerHealthIndicator,
  ) {}

  check() {
    return this.health.check([() => this.mailer.isHealthy('mail')]);
  }
}
