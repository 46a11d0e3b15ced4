import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from './common/logging/pino-logger.module.js';
import { AppModule } from './app.module.js';
import { DEVICE_AUTH_SCHEME } from './common/api-errors.decorator.js';
import { hardenHttp } from './common/http-hardening.js';
import { consoleMiddleware } from './console/console-static.js';
import { addPathParameterExamples } from './common/openapi-examples.js';
import { httpsServer } from './common/https-server.js';
import type { AppConfig } from './config/app-config.js';

export async function createApp(config: AppConfig): Promise<INestApplication> {
  const https = httpsServer(config);
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bufferLogs: true,
    ...(https ? { httpsOptions: https.options } : {}),
  });
  https?.attach(app.getHttpServer());
  app.useLogger(app.get(Logger));
  hardenHttp(app, config);
  app.use(consoleMiddleware());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: true,
    }),
  );
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
  });
  return app;
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Sentinel Model Hub')
    .setDescription(
      'Model registry, deployments and fleet management for ML models on edge devices. ' +
        'Every /api route needs `Authorization: Bearer <token>`; roles: admin, operator, viewer. ' +
        'Devices may also use their credential, `Authorization: Basic base64(device_id:secret)`, ' +
        'for artifact downloads and GET /api/v1/devices/me, and nowhere else. ' +
        'Errors are `{statusCode, error, message}` with a stable error code.',
    )
    .setVersion('1')
    .addBearerAuth()
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: 'A device credential: the device id as user name, its secret as password.',
      },
      DEVICE_AUTH_SCHEME,
    )
    .build();
  return addPathParameterExamples(SwaggerModule.createDocument(app, config));
}
