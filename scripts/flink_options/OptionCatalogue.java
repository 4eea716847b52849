// Lists the configuration options a Flink distribution declares, one per line, by reflection.
//
// Usage: java -cp <dir of this class> OptionCatalogue <jar>...
// Every `static ConfigOption` field of every class under org/apache/flink/ of the given jars is read
// (classes of shaded dependencies, connectors, formats and table factories are skipped: their
// options belong in a table's WITH clause, not in the Flink configuration). Options documented as
// suffixes of a prefix (a metric reporter's `factory.class` below `metrics.reporter.<name>.`) are
// skipped too: gen declares those prefixes as open.
// Output, tab-separated and sorted by key:
//   key  type  enum-constants(,)  deprecated-keys(,)  fallback-keys(,)  deprecated(0|1)
// where type is int, long, bool, float, duration, memory, string, map, enum, list or another
// class's simple name in lower case.
import java.io.File;
import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public final class OptionCatalogue {
    private static final String[] SKIPPED = {
        "/shaded/", "/formats/", "org/apache/flink/connector/", "org/apache/flink/connectors/",
        "org/apache/flink/streaming/connectors/", "org/apache/flink/table/factories/",
    };

    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String jar : args) {
            urls.add(new File(jar).toURI().toURL());
        }
        ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
        Class<?> option = Class.forName("org.apache.flink.configuration.ConfigOption", false, loader);
        Method key = option.getMethod("key");
        Method fallbackKeys = option.getMethod("fallbackKeys");
        Method getClazz = option.getDeclaredMethod("getClazz");
        getClazz.setAccessible(true);
        Method isList = option.getDeclaredMethod("isList");
        isList.setAccessible(true);
        Class<?> fallback = Class.forName("org.apache.flink.configuration.FallbackKey", false, loader);
        Method fallbackKey = fallback.getMethod("getKey");
        Method fallbackDeprecated = fallback.getMethod("isDeprecated");

        Map<String, String> rows = new TreeMap<>();
        for (String jar : args) {
            TreeSet<String> classes = new TreeSet<>();
            try (JarFile file = new JarFile(jar)) {
                Enumeration<JarEntry> entries = file.entries();
                while (entries.hasMoreElements()) {
                    String name = entries.nextElement().getName();
                    if (name.startsWith("org/apache/flink/") && name.endsWith(".class") && !skipped(name)) {
                        classes.add(name.substring(0, name.length() - 6).replace('/', '.'));
                    }
                }
            }
            for (String name : classes) {
                Field[] fields;
                try {
                    fields = Class.forName(name, false, loader).getDeclaredFields();
                } catch (Throwable missing) {
                    continue; // a class whose dependencies are not in these jars declares nothing we can read
                }
                for (Field field : fields) {
                    if (!Modifier.isStatic(field.getModifiers()) || field.getType() != option || suffix(field)) {
                        continue;
                    }
                    Object value;
                    try {
                        field.setAccessible(true);
                        value = field.get(null);
                    } catch (Throwable failed) {
                        continue;
                    }
                    if (value == null) {
                        continue;
                    }
                    String k = (String) key.invoke(value);
                    if (k.startsWith("$") || k.startsWith("__") || k.contains("<") || rows.containsKey(k)) {
                        continue;
                    }
                    Class<?> clazz = (Class<?>) getClazz.invoke(value);
                    boolean list = (Boolean) isList.invoke(value);
                    TreeSet<String> deprecatedKeys = new TreeSet<>();
                    TreeSet<String> fallbackKeysOf = new TreeSet<>();
                    for (Object fk : (Iterable<?>) fallbackKeys.invoke(value)) {
                        String name2 = (String) fallbackKey.invoke(fk);
                        if ((Boolean) fallbackDeprecated.invoke(fk)) {
                            deprecatedKeys.add(name2);
                        } else {
                            fallbackKeysOf.add(name2);
                        }
                    }
                    StringBuilder choices = new StringBuilder();
                    if (clazz.isEnum() && !list) {
                        for (Object constant : clazz.getEnumConstants()) {
                            choices.append(choices.length() == 0 ? "" : ",").append(constant.toString());
                        }
                    }
                    String deprecated = field.isAnnotationPresent(Deprecated.class) ? "1" : "0";
                    rows.put(k, String.join("\t", k, type(clazz, list), choices.toString(),
                            String.join(",", deprecatedKeys), String.join(",", fallbackKeysOf), deprecated));
                }
            }
        }
        StringBuilder out = new StringBuilder();
        for (String row : rows.values()) {
            out.append(row).append('\n');
        }
        System.out.print(out);
    }

    private static boolean skipped(String name) {
        for (String part : SKIPPED) {
            if (name.contains(part)) {
                return true;
            }
        }
        return false;
    }

    private static boolean suffix(Field field) {
        for (Annotation annotation : field.getAnnotations()) {
            if (annotation.annotationType().getSimpleName().equals("SuffixOption")) {
                return true;
            }
        }
        return false;
    }

    private static String type(Class<?> clazz, boolean list) {
        if (list) {
            return "list";
        }
        if (clazz.isEnum()) {
            return "enum";
        }
        switch (clazz.getName()) {
            case "java.lang.Integer": return "int";
            case "java.lang.Long": return "long";
            case "java.lang.Boolean": return "bool";
            case "java.lang.Float":
            case "java.lang.Double": return "float";
            case "java.time.Duration": return "duration";
            case "org.apache.flink.configuration.MemorySize": return "memory";
            case "java.lang.String": return "string";
            case "java.util.Map": return "map";
            default: return clazz.getSimpleName().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
