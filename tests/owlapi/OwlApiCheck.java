// OwlApiCheck: what Protégé does with the medgrade ontology, done with the OWL API it uses.
//
//   closure DIR            load DIR/medgrade.ttl resolving owl:imports ONLY through
//                          DIR/catalog-v001.xml (as Protégé does); fail on a missing import;
//                          check the whole imports closure against the OWL 2 DL profile.
//   save IN.ttl OUT.owl    load a Turtle module and save it as RDF/XML, Protégé's default format.
//
// Exit 0 on success; 1 on a DL violation or missing import; 2 on a load failure.
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.RioTurtleDocumentFormat;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.semanticweb.owlapi.util.SimpleIRIMapper;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class OwlApiCheck {
    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("closure")) System.exit(closure(new File(args[1])));
        if (args.length == 3 && args[0].equals("save")) System.exit(save(new File(args[1]), new File(args[2])));
        System.err.println("usage: OwlApiCheck closure DIR | save IN.ttl OUT.owl");
        System.exit(64);
    }

    static OWLOntologyManager manager() {
        OWLOntologyManager m = OWLManager.createOWLOntologyManager();
        m.getIRIMappers().clear();  // no web, no guessing: only what the catalog says
        m.setOntologyLoaderConfiguration(new OWLOntologyLoaderConfiguration()
            .setRepairIllegalPunnings(false)
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.THROW_EXCEPTION));
        return m;
    }

    static int closure(File dir) throws Exception {
        OWLOntologyManager m = manager();
        File catalog = new File(dir, "catalog-v001.xml");
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        var doc = dbf.newDocumentBuilder().parse(catalog);
        NodeList uris = doc.getElementsByTagNameNS("*", "uri");
        File umbrella = null;
        for (int i = 0; i < uris.getLength(); i++) {
            Element e = (Element) uris.item(i);
            File f = new File(dir, e.getAttribute("uri"));
            m.getIRIMappers().add(new SimpleIRIMapper(IRI.create(e.getAttribute("name")), IRI.create(f)));
            if (e.getAttribute("name").equals("https://w3id.org/medgrade/def")) umbrella = f;
        }
        if (umbrella == null) { System.out.println("LOAD_ERROR the catalog does not map the umbrella ontology"); return 2; }
        OWLOntology o;
        try {
            o = m.loadOntologyFromOntologyDocument(new FileDocumentSource(umbrella, new RioTurtleDocumentFormat()));
        } catch (OWLOntologyCreationException | RuntimeException e) {
            System.out.println("LOAD_ERROR " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).split("\n")[0]);
            return e instanceof UnloadableImportException ? 1 : 2;
        }
        List<String> closure = new ArrayList<>();
        o.importsClosure().forEach(x -> closure.add(x.getOntologyID().getOntologyIRI().map(IRI::toString).orElse("?")));
        System.out.println("closure=" + closure.size());
        for (String iri : closure) System.out.println("IMPORTED " + iri);
        long axioms = o.importsClosure().mapToLong(OWLOntology::getAxiomCount).sum();
        System.out.println("axioms=" + axioms);
        OWLProfileReport r = new OWL2DLProfile().checkOntology(o);  // checks the imports closure
        for (OWLProfileViolation v : r.getViolations())
            System.out.println("DL_VIOLATION " + v.toString().replace('\n', ' '));
        System.out.println("owl2_dl=" + r.isInProfile());
        return r.isInProfile() ? 0 : 1;
    }

    static int save(File in, File out) throws Exception {
        OWLOntologyManager m = manager();
        m.setOntologyLoaderConfiguration(m.getOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT));
        OWLOntology o = m.loadOntologyFromOntologyDocument(new FileDocumentSource(in, new RioTurtleDocumentFormat()));
        m.saveOntology(o, new RDFXMLDocumentFormat(), IRI.create(out));
        System.out.println("saved " + out);
        return 0;
    }
}
