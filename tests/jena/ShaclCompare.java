// ShaclCompare: validate several data files against one shapes file with Apache Jena's SHACL
// engine, in one JVM, and print what the comparison with pyshacl needs:
//   FILE <tab> conforms <tab> true|false
//   FILE <tab> result <tab> focusNode <tab> sourceShape <tab> severity
import java.io.File;
import org.apache.jena.graph.Graph;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.shacl.validation.ReportEntry;

public class ShaclCompare {
    public static void main(String[] args) {
        Graph shapesGraph = RDFDataMgr.loadGraph(args[0]);
        Shapes shapes = Shapes.parse(shapesGraph);
        for (int i = 1; i < args.length; i++) {
            String name = new File(args[i]).getName();
            Graph data = RDFDataMgr.loadGraph(args[i]);
            ValidationReport report = ShaclValidator.get().validate(shapes, data);
            System.out.println(name + "\tconforms\t" + report.conforms());
            for (ReportEntry e : report.getEntries()) {
                System.out.println(name + "\tresult\t" + e.focusNode().getURI() + "\t"
                    + (e.source().isURI() ? e.source().getURI() : "_:blank") + "\t" + e.severity().level().getLocalName());
            }
        }
    }
}
