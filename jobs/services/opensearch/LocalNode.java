// One OpenSearch node for loopback use, run with Java's source launcher: java -cp '<libs>/*' LocalNode.java <home>
// <home>/config/opensearch.yml holds the settings (written by jobs/services/opensearch). The distribution's
// launcher would load plugins from a plugins/ folder of a full install; here the one plugin the REST API needs
// (Netty4, the HTTP transport) is on the classpath and handed to the node directly, which only a subclass of
// Node may do.
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

public class LocalNode extends Node {
    LocalNode(Environment environment) {
        super(environment, List.of(Netty4Plugin.class), true);
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        Settings settings = Settings.builder().put("path.home", home.toString()).build();
        Environment environment =
            InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> "lakehouse");
        LocalNode node = new LocalNode(environment);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM (how jobs/services stops a service) closes the node, so its data is flushed and its lock freed.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception error) {
                error.printStackTrace();
            }
            stopped.countDown();
        }));
        node.start();
        stopped.await();
    }
}
