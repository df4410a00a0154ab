import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local on 127.0.0.1 only. Its own launcher builds a Jetty server on every interface
 * and has no option to choose one; this one builds the same server from the same arguments,
 * moves its connectors to the loopback address before they open, and starts it.
 * local/dynamoDbLocal.ts compiles it on first use (with the jdk.compiler module of the Java that
 * runs it) into a cache folder of the temp dir, so no binary is shipped.
 */
public class LoopbackDynamoDbLocal {
  /** Exit status that tells local/dynamoDbLocal.ts to fall back to the stock launcher, loudly. */
  static final int CANNOT_BIND_LOOPBACK = 3;

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    try {
      Field field = DynamoDBProxyServer.class.getDeclaredField("server");
      field.setAccessible(true);
      Server server = (Server) field.get(proxy);
      Connector[] connectors = server.getConnectors();
      if (connectors.length == 0) throw new IllegalStateException("no connector");
      for (Connector connector : connectors) ((ServerConnector) connector).setHost("127.0.0.1");
    } catch (Exception | LinkageError error) {
      System.err.println("grpc-monitor: cannot restrict DynamoDB Local to 127.0.0.1: " + error);
      System.exit(CANNOT_BIND_LOOPBACK);
    }
    proxy.start();
  }
}
