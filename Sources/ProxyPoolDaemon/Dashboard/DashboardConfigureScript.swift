/// The Apps page's Configure buttons: `configure.preview` shows the change (secrets cut short by the daemon),
/// and only a click on "Write these changes" calls `configure.apply`. The panel lives outside the tables the
/// page redraws, so a redraw does not close it.
enum DashboardConfigureScript {
    static let configure = #"""
        let configuring = null;
        function showPlan(r, written) {
          const panel = document.getElementById("configure");
          panel.hidden = false;
          document.getElementById("configure-title").textContent = (written ? "Configured " : "What would change for ") + r.tool;
          document.getElementById("configure-diff").textContent = r.files.map(f => f.diff).join("\n");
          document.getElementById("configure-notes").replaceChildren(...r.notes.map(n => el("li", n)));
          const nothing = r.files.every(f => !f.changed);
          document.getElementById("configure-write").hidden = written || nothing;
          const done = document.getElementById("configure-done");
          done.hidden = !written && !nothing;
          if (nothing && !written) done.textContent = r.tool + " already points at this proxy: nothing to write.";
          if (written) {
            const backups = r.files.filter(f => f.backup).map(f => f.path + " → " + f.backup);
            done.textContent = "Written. Access key " + r.keyID + " is bound to app " + r.tool + "." +
              (backups.length ? " Backups: " + backups.join(", ") + "." : "") + " Undo with: proxypoolctl configure " + r.tool + " --undo";
          }
          panel.scrollIntoView({block: "nearest"});
        }
        for (const b of document.querySelectorAll("#configure-buttons button")) {
          b.addEventListener("click", async () => {
            try { configuring = b.dataset.tool; showPlan(await call("configure.preview", {tool: configuring}), false); showError(null); } catch (e) { showError(e); }
          });
        }
        document.getElementById("configure-write").addEventListener("click", async (ev) => {
          if (!configuring) return;
          ev.target.disabled = true;
          try { showPlan(await call("configure.apply", {tool: configuring}), true); showError(null); await show(); } catch (e) { showError(e); }
          ev.target.disabled = false;
        });
        document.getElementById("configure-cancel").addEventListener("click", () => { document.getElementById("configure").hidden = true; configuring = null; });

        """#
}
