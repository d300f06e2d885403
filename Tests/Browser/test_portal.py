"""The account portal in a real browser: Debian's chromium with JavaScript turned off, driven by
selenium, against the real coffer-server and the real coffer CLI.

Run by `make test` through scripts/browser-tests.sh, which installs chromium, chromium-driver and
selenium when they are missing and fails loudly when it cannot.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BIN = os.environ["COFFER_BIN_DIR"]
OLD_PASSWORD = "tundra-walrus-pebble-orchid-42"
NEW_PASSWORD = "glacier-harbor-violet-meadow-77"


def is_stale(element):
    """Whether the browser has replaced the page `element` was on.

    selenium's `staleness_of` expects StaleElementReferenceException, but chromedriver may answer
    "Node with given id does not belong to the document" for an element of the page just left
    (SeleniumHQ/selenium#15401); that answer means the same thing, so it counts as stale too.
    """
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in (error.msg or ""):
            return True
        raise


class Coffer:
    """One `coffer` profile in its own COFFER_HOME."""

    def __init__(self, root):
        self.home = tempfile.mkdtemp(dir=root)

    def run(self, *args, stdin=""):
        env = dict(os.environ, COFFER_HOME=self.home)
        return subprocess.run(
            [os.path.join(BIN, "coffer"), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
        )

    def ok(self, *args, stdin=""):
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"coffer {' '.join(args)}: {result.stderr}"
        return result.stdout


class PortalInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="coffer-browser-")
        cls.data = os.path.join(cls.root, "server")
        cls.server = subprocess.Popen(
            [os.path.join(BIN, "coffer-server"), "--port", "0", "--data-dir", cls.data],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for line in cls.server.stdout:
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                cls.url = match.group(1)
                break
        else:
            raise RuntimeError("coffer-server did not start")
        # Keep draining its log so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in cls.server.stdout], daemon=True).start()
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
            options.add_argument(argument)
        # The portal must work without JavaScript: the browser runs none.
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
        cls.browser = webdriver.Chrome(options=options, service=service)
        # A phone's width: every page must fit it without scrolling sideways (checked in page()).
        cls.browser.set_window_size(360, 800)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.server.stdout.close()
        shutil.rmtree(cls.root, ignore_errors=True)

    def mail(self, email, marker):
        """The newest mail to `email` containing `marker`; mail leaves the server from a queue after
        the request answered, so this waits for it (up to 15 seconds)."""
        deadline = time.monotonic() + 15
        while True:
            for path in sorted(glob.glob(os.path.join(self.data, "mail", "*.eml")), reverse=True):
                with open(path, encoding="utf-8") as message:
                    text = message.read()
                if email in text and marker in text:
                    return text
            if time.monotonic() > deadline:
                self.fail(f"no mail to {email} containing {marker}")
            time.sleep(0.05)

    def submit(self):
        """Submits the page's form and waits for the next page."""
        self.leave_by(self.browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def leave_by(self, element):
        """Clicks a link or button and waits until the browser has left the page: a click can
        return before the next page replaces this one, and reading then would read the old page."""
        element.click()
        WebDriverWait(self.browser, 30).until(lambda _: is_stale(element))

    def page(self):
        source = self.browser.page_source
        self.assertNotIn("<script", source, "portal pages carry no JavaScript")
        self.assertIn("<style", source, "every page has the portal's look")
        self.assertIn('href="/portal"', source, "every page has a way back to the portal")
        # The page runs no script; the driver measures it from outside.
        scroll, visible = self.browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        self.assertLessEqual(scroll, visible, f"{self.browser.current_url} overflows a narrow screen")
        return self.browser.find_element(By.TAG_NAME, "body").text

    def register(self, email):
        laptop = Coffer(self.root)
        laptop.ok("register", "--server", self.url, "--email", email, "--device-name", "laptop",
                  "--password-stdin", stdin=OLD_PASSWORD + "\n")
        # Codes and links for recovery and reset go only to a confirmed address: confirm it in the
        # browser, where opening the mailed link shows a button and confirms nothing by itself.
        link = re.search(r"(http://\S+/verify-email\?\S+)", self.mail(email, "/verify-email")).group(1)
        self.browser.get(link)
        self.assertIn("Nothing is confirmed until you press the button", self.page())
        self.browser.get(link)
        self.submit()
        self.assertIn("Address confirmed", self.page())
        self.browser.get(link)
        self.assertIn("no longer works", self.page(), "the link confirms once")
        for index in range(3):
            laptop.ok("add", "login", "--title", f"Site {index}", "--password-stdin", stdin=f"secret-{index}\n")
        return laptop

    def test_forgot_password_reset_and_recovery(self):
        email = "dana@example.org"
        laptop = self.register(email)

        self.browser.get(self.url + "/portal")
        self.leave_by(self.browser.find_element(By.LINK_TEXT, "Forgot your password?"))
        text = self.page()
        self.assertIn("You have your recovery code", text, "what still works comes before any reset")
        self.browser.find_element(By.ID, "email").send_keys(email)
        self.submit()
        self.assertIn("If an account exists", self.page())

        link = re.search(r"(http://\S+/portal/reset\?\S+)", self.mail(email, "/portal/reset")).group(1)
        self.browser.get(link)
        text = self.page()
        self.assertIn("laptop", text, "devices still signed in are listed")
        self.assertIn("not deleted", text)

        self.browser.find_element(By.ID, "confirmation").send_keys("ok")
        self.submit()
        self.assertIn("Nothing was changed", self.page())
        self.browser.find_element(By.ID, "confirmation").send_keys("reset my account")
        self.submit()
        self.assertIn("was reset", self.page())
        code = self.browser.find_element(By.ID, "setup-code").text
        self.assertRegex(code, r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")

        self.browser.get(link)
        self.assertIn("no longer works", self.page(), "the link works once")

        # The laptop finishes the reset with the code, then moves its own 3 items into the new account.
        laptop.ok("account", "reset", "--server", self.url, "--email", email, "--code", code,
                  "--password-stdin", "--yes", stdin=NEW_PASSWORD + "\n")
        laptop.ok("recover", "--from-device", "--password-stdin", stdin=NEW_PASSWORD + "\n" + OLD_PASSWORD + "\n")
        items = json.loads(laptop.ok("list", "--json"))
        self.assertEqual(sorted(item["title"] for item in items), ["Site 0", "Site 1", "Site 2"])
        laptop.run("lock")

    def test_account_activity_after_an_emailed_code(self):
        email = "erin@example.org"
        laptop = self.register(email)
        laptop.run("lock")
        self.browser.get(self.url + "/portal/activity")
        self.browser.find_element(By.ID, "email").send_keys(email)
        self.submit()
        self.assertIn("we sent it a code", self.page())
        code = re.search(r"one-time code: ([A-Z0-9-]+)", self.mail(email, "one-time code")).group(1)
        self.browser.find_element(By.ID, "code").send_keys("WRNG-CODE")
        self.submit()
        self.assertIn("That code is wrong", self.page())
        self.browser.find_element(By.ID, "code").send_keys(code)
        self.submit()
        table = self.browser.find_element(By.ID, "events").text
        self.assertIn("Account created", table)
        self.assertIn("laptop", table)

    def test_quarantine_purge_is_confirmed_in_the_browser_and_can_be_cancelled(self):
        email = "fay@example.org"
        laptop = self.register(email)
        laptop.ok("account", "reset", "--server", self.url, "--email", email)
        code = re.search(r"one-time code: ([A-Z0-9-]+)", self.mail(email, "one-time code")).group(1)
        laptop.ok("account", "reset", "--server", self.url, "--email", email, "--code", code,
                  "--password-stdin", "--yes", stdin=NEW_PASSWORD + "\n")
        laptop.ok("account", "purge-quarantine", "--yes", "--password-stdin", stdin=NEW_PASSWORD + "\n")

        link = re.search(r"(http://\S+/portal/deletion\?\S+)", self.mail(email, "/portal/deletion")).group(1)
        self.browser.get(link)
        text = self.page()
        self.assertIn("data kept from before your account reset", text)
        self.assertIn("Nothing happens unless you confirm", text, "opening the link changes nothing")
        self.leave_by(self.browser.find_element(By.ID, "confirm"))
        self.assertIn("Deletion confirmed", self.page())
        status = laptop.ok("status", "--password-stdin", stdin=NEW_PASSWORD + "\n")
        self.assertIn("Pending deletion", status, "the device shows what is about to be deleted")
        # The portal's activity page shows it too.
        self.browser.get(self.url + "/portal/activity")
        self.browser.find_element(By.ID, "email").send_keys(email)
        self.submit()
        code = re.search(r"one-time code: ([A-Z0-9-]+)", self.mail(email, "activity in the portal")).group(1)
        self.browser.find_element(By.ID, "code").send_keys(code)
        self.submit()
        self.assertIn("happens at", self.browser.find_element(By.ID, "deletions").text)

        self.browser.get(link)
        self.assertIn("unless it is cancelled", self.page())
        self.assertEqual(self.browser.find_elements(By.ID, "confirm"), [], "confirmed once is enough")
        self.leave_by(self.browser.find_element(By.ID, "cancel"))
        self.assertIn("Nothing will be deleted", self.page())
        self.assertIn("No deletion is pending", laptop.ok("account", "deletions", "--password-stdin",
                                                          stdin=NEW_PASSWORD + "\n"))
        laptop.run("lock")


if __name__ == "__main__":
    unittest.main()
