//! Ansible for the fan-out: `parc collect --ssh --inventory` reads the
//! fleet an Ansible inventory already describes, as ansible-core itself
//! reads it (its `ansible-inventory`, from PyPI, is the reference), and
//! collects its hosts from real sshd on 127.0.0.1.

mod common;

use common::sshd::Sshd;
use common::*;
use parc::collect::inventory;
use std::process::{Command, Stdio};

fn stderr(run: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&run.get_output().stderr).into_owned()
}

const INI: &str = "# A fleet as Ansible knows it
mail.example.com

[webservers]
web[01:03].example.com ansible_user=deploy
bastion ansible_host=192.0.2.10 ansible_port=2222

[dbservers]
db-[a:b].example.com
one.example.com:5309

[prod:children]
webservers
dbservers

[prod:vars]
ansible_user=parc

[all:vars]
ansible_port=22
";

const YAML: &str = "all:
  hosts:
    mail.example.com:
  vars:
    ansible_port: 22
  children:
    prod:
      vars:
        ansible_user: parc
      children:
        webservers:
          hosts:
            web[01:03].example.com:
              ansible_user: deploy
            bastion:
              ansible_host: 192.0.2.10
              ansible_port: 2222
        dbservers:
          hosts:
            db-[a:b].example.com:
            one.example.com:
              ansible_port: 5309
";

/// `ansible-inventory -i FILE --list`: what Ansible makes of the file.
fn ansible_list(dir: &std::path::Path, file: &str) -> String {
    let out = Command::new("ansible-inventory")
        .current_dir(dir)
        .args(["-i", file, "--list"])
        .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-tmp"))
        .env("ANSIBLE_HOME", dir.join(".ansible"))
        .output()
        .expect("ansible-inventory (make test installs ansible-core from PyPI)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn sorted(mut hosts: Vec<inventory::Host>) -> Vec<(String, String)> {
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    hosts.into_iter().map(|h| (h.name, h.destination)).collect()
}

#[test]
fn an_inventory_is_read_as_ansible_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hosts.ini"), INI).unwrap();
    std::fs::write(tmp.path().join("hosts.yml"), YAML).unwrap();
    for file in ["hosts.ini", "hosts.yml"] {
        let text = std::fs::read_to_string(tmp.path().join(file)).unwrap();
        let ours = sorted(inventory::parse(&text).unwrap());
        let theirs = sorted(inventory::parse(&ansible_list(tmp.path(), file)).unwrap());
        assert_eq!(ours, theirs, "{file}: parc and ansible-inventory disagree");
        assert_eq!(ours.len(), 8, "{ours:?}");
        let of = |name: &str| ours.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(of("bastion"), "parc@192.0.2.10:2222", "the host's own over its group's over all's");
        assert_eq!(of("web02.example.com"), "deploy@web02.example.com:22");
        assert_eq!(of("one.example.com"), "parc@one.example.com:5309");
        assert_eq!(of("mail.example.com"), "mail.example.com:22");
    }
    let err = inventory::parse("[web]\nweb[01:.example.com\n").unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("no ]"), "{err}");
}

#[test]
fn collect_over_ssh_the_hosts_of_an_inventory_file_or_of_its_json_on_stdin() {
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("parc.toml"), sshd.config("")).unwrap();
    let ini = format!(
        "[web]\nweb1 ansible_host=127.0.0.1\nweb2 ansible_host=127.0.0.1\n\n[web:vars]\nansible_port={}\nansible_user=root\n",
        sshd.port
    );
    std::fs::write(tmp.path().join("hosts.ini"), ini).unwrap();
    let run = parc()
        .current_dir(tmp.path())
        .args(["collect", "--ssh", "--inventory", "hosts.ini", "--kinds", "system", "--snapshots", "from-file"])
        .assert()
        .success();
    assert!(stderr(&run).contains("web1") && stderr(&run).contains("web2"), "{}", stderr(&run));
    for host in ["web1", "web2"] {
        let system = read_json(&tmp.path().join(format!("from-file/{host}/system.json")));
        assert_eq!(system["host"], host, "collected under its inventory name");
    }
    // ansible-inventory's JSON on stdin, one host picked by --ssh.
    let json = ansible_list(tmp.path(), "hosts.ini");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("parc"))
        .current_dir(tmp.path())
        .args(["collect", "--ssh", "web2", "--inventory", "-", "--kinds", "system", "--snapshots", "from-json"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), json.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hosts: Vec<String> = std::fs::read_dir(tmp.path().join("from-json"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(hosts, ["web2"]);
    // A host name parc cannot keep is refused with the file and the name.
    std::fs::write(tmp.path().join("bad.ini"), "[x]\n../evil ansible_host=127.0.0.1\n").unwrap();
    let bad = parc().current_dir(tmp.path()).args(["collect", "--inventory", "bad.ini"]).assert().code(2);
    let said = stderr(&bad);
    assert!(said.contains("bad.ini") && said.contains("../evil"), "{said}");
}

/// The role of deploy/ansible/, run by ansible-playbook against two real
/// Debian hosts (their own sshd on 127.0.0.1): a second run changes
/// nothing; then each agent runs as its timer would start it (the unit's
/// user and command, no ssh-agent, a login environment), pushes through
/// its ~/.ssh/config alias to a bare repository behind a real sshd, and a
/// build of that repository shows both hosts.
#[test]
fn the_role_deploys_agents_that_push_and_a_second_run_changes_nothing() {
    use common::debian::{repository, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let git_server = Sshd::start();
    // The snapshots repository, bare, with a first commit.
    let remote = tmp.path().join("fleet.git");
    git(tmp.path(), &["init", "-q", "--bare", remote.to_str().unwrap()]);
    let seed = tmp.path().join("seed");
    git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), seed.to_str().unwrap()]);
    std::fs::create_dir_all(seed.join("snapshots")).unwrap();
    std::fs::write(seed.join("snapshots/.keep"), "").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "a fleet"]);
    git(&seed, &["push", "-q", "origin", "HEAD"]);

    let repo = tmp.path().join("apt-repo");
    repository(&repo, &[]);
    let hosts = [DebianHost::start("agent-a", &repo, &[]), DebianHost::start("agent-b", &repo, &[])];
    let mut inventory = String::from("[agents]\n");
    for h in &hosts {
        inventory.push_str(&format!(
            "{} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
            h.name,
            h.port,
            h.key().display(),
            h.known_hosts().display()
        ));
    }
    std::fs::write(tmp.path().join("hosts.ini"), inventory).unwrap();
    let known = std::fs::read_to_string(git_server.path("known_hosts")).unwrap();
    let vars = serde_json::json!({
        "parc_binary": assert_cmd::cargo::cargo_bin("parc"),
        "parc_repo": format!("git.lan:{}", remote.display()),
        "parc_git_hostname": "127.0.0.1",
        "parc_git_port": git_server.port,
        "parc_git_user": "root",
        "parc_deploy_key": git_server.path("id"),
        "parc_git_known_hosts": known.trim(),
        "parc_kinds": ["system", "apt"],
    });
    std::fs::write(tmp.path().join("vars.json"), vars.to_string()).unwrap();
    let playbook = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ansible/site.yml");
    let play = || {
        let out = Command::new("ansible-playbook")
            .current_dir(tmp.path())
            .args(["-i", "hosts.ini", "-e", "@vars.json"])
            .arg(&playbook)
            .env("ANSIBLE_HOME", tmp.path().join(".ansible"))
            .env("ANSIBLE_LOCAL_TEMP", tmp.path().join(".ansible-tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .output()
            .expect("ansible-playbook (make test installs ansible-core from PyPI)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
        text
    };
    let first = play();
    let second = play();
    for h in &hosts {
        let recap =
            |text: &str| text.lines().find(|l| l.starts_with(&h.name) && l.contains("ok=")).unwrap().to_string();
        assert!(!recap(&first).contains("changed=0"), "the first run installs: {first}");
        assert!(recap(&second).contains("changed=0 ") && recap(&second).contains("failed=0"), "{second}");
    }
    // Each agent, as its timer starts it.
    for h in &hosts {
        let unit = std::fs::read_to_string(h.root.join("etc/systemd/system/parc-collect.service")).unwrap();
        let field = |key: &str| unit.lines().find_map(|l| l.strip_prefix(key)).unwrap().to_string();
        let (user, dir, exec) = (field("User="), field("WorkingDirectory="), field("ExecStart="));
        let run = h.ssh(&format!("su -l -s /bin/sh {user} -c {}", shell_quote(&format!("cd {dir} && {exec}"))));
        assert!(run.status.success(), "{}: {}", h.name, String::from_utf8_lossy(&run.stderr));
    }
    let ci = tmp.path().join("ci");
    git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), ci.to_str().unwrap()]);
    let site = tmp.path().join("site");
    build_cmd(&ci.join("snapshots"), &site, &[]).assert().success();
    let listed = read_json(&site.join("api/v1/hosts.json"));
    let mut names: Vec<&str> = listed.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["agent-a", "agent-b"]);
    let log = git(&ci, &["log", "--format=%s"]);
    assert!(log.contains("parc collect: agent-a") && log.contains("parc collect: agent-b"), "{log}");
}

/// A folder of facts Ansible gathered (`ansible all -m setup --tree DIR`,
/// run here for real) is a source: each file a `system` and a `disks`
/// version of its host, named by the inventory; a file of a host Ansible
/// could not gather is a problem naming it.
#[test]
fn facts_ansible_gathered_are_a_source() {
    let tmp = tempfile::tempdir().unwrap();
    let facts = tmp.path().join("facts");
    let out = Command::new("ansible")
        .current_dir(tmp.path())
        .args(["all", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=/usr/bin/python3"])
        .args(["-m", "setup", "--tree"])
        .arg(&facts)
        .env("ANSIBLE_HOME", tmp.path().join(".ansible"))
        .env("ANSIBLE_LOCAL_TEMP", tmp.path().join(".ansible-tmp"))
        .output()
        .expect("ansible (make test installs ansible-core from PyPI)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::rename(facts.join("localhost"), facts.join("web1")).unwrap();
    std::fs::copy(facts.join("web1"), facts.join("web2.json")).unwrap();
    std::fs::write(facts.join("web3"), corpus("ansible/setup-tree-failed-interpreter.json")).unwrap();
    std::fs::write(
        tmp.path().join("parc.toml"),
        "[[build.source]]\nname = \"lab\"\npath = \"facts\"\nformat = \"ansible-facts\"\n",
    )
    .unwrap();
    let site = tmp.path().join("site");
    parc().current_dir(tmp.path()).args(["build", "--out"]).arg(&site).assert().success();
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    let mut names: Vec<&str> = hosts.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["lab/web1", "lab/web2"]);
    let gathered: serde_json::Value = serde_json::from_str(&read(&facts.join("web1"))).unwrap();
    let f = &gathered["ansible_facts"];
    let web1 = hosts.as_array().unwrap().iter().find(|h| h["name"] == "lab/web1").unwrap();
    assert_eq!(web1["kernel"], f["ansible_kernel"]);
    assert_eq!(web1["os"], f["ansible_lsb"]["description"]);
    let detail = read_json(&site.join("api/v1").join(web1["api"].as_str().unwrap()));
    let kinds: Vec<&str> = detail["kinds"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(kinds, ["disks", "system"], "a system and a disks version from one file");
    let root =
        detail["filesystems"].as_array().unwrap().iter().find(|fs| fs["target"] == "/").expect("/ from ansible_mounts");
    let mount = f["ansible_mounts"].as_array().unwrap().iter().find(|m| m["mount"] == "/").unwrap();
    assert_eq!(
        (root["size"].as_u64(), root["avail"].as_u64()),
        (mount["size_total"].as_u64(), mount["size_available"].as_u64())
    );
    let problems = read(&site.join("api/v1/problems.json"));
    assert!(problems.contains("web3") && problems.contains("Ansible gathered no facts"), "{problems}");
}
