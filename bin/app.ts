import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MonitorStack } from '../lib/monitorStack';
import { ContextError, settingsFromContext } from '../lib/monitorSettings';

const app = new App();
try {
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  new MonitorStack(app, 'GrpcMonitor', { settings });
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  console.error(`gRPC Monitor: ${error.message} (see README.md, "Deploy" → "Context options")`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
