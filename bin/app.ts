import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MonitorStack } from '../lib/monitorStack';
import { settingsFromContext } from '../lib/monitorSettings';

const app = new App();
const settings = settingsFromContext((key) => app.node.tryGetContext(key));
new MonitorStack(app, 'GrpcMonitor', { settings });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
