# nbgrader settings inside the LPU Lab user image (deploy/Dockerfile): the exchange is a shared volume mounted at
# /srv/nbgrader/exchange by deploy/values.yaml; fetched assignments go to ~/learner/chNN.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "lpu-lab"
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.assignment_dir = os.path.expanduser("~/learner")
