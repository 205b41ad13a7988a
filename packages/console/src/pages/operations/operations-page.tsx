import type { OperationsSection } from "../../router.tsx";
import { Link } from "../../router.tsx";
import { AuditLog } from "./audit-log.tsx";
import { DeadLetters } from "./dead-letters.tsx";
import { MetricsOverview } from "./metrics-overview.tsx";
import { StuckWork } from "./stuck-work.tsx";

const SECTIONS: [OperationsSection, string][] = [
  ["overview", "Overview"],
  ["stuck", "Stuck work and sweeps"],
  ["dead-letters", "Dead letters"],
  ["audit", "Audit log"],
];

/** The admin pages: across tenants, like the admin API they read. */
export const OperationsPage = ({ section }: { section: OperationsSection }) => (
  <>
    <h1 tabIndex={-1}>Operations</h1>
    <nav className="tabs" aria-label="Operations">
      <ul>
        {SECTIONS.map(([name, title]) => (
          <li key={name}>
            <Link to={name === "overview" ? "/console/operations" : `/console/operations/${name}`} aria-current={section === name ? "page" : undefined}>
              {title}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
    {section === "overview" ? <MetricsOverview /> : null}
    {section === "stuck" ? <StuckWork /> : null}
    {section === "dead-letters" ? <DeadLetters /> : null}
    {section === "audit" ? <AuditLog /> : null}
  </>
);
