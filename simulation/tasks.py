import structlog
from celery import shared_task
from django.conf import settings

from simulation import training

log = structlog.get_logger(__name__)


@shared_task(name="simulation.tasks.reset_training_company")
def reset_training_company() -> None:
    """Nightly on a training sandbox (scheduled only there): the training company simulated afresh."""
    simulation, tally = training.reset_training_company(**settings.OTC_TRAINING_COMPANY)
    log.info("training_company_reset", start=str(simulation.start), end=str(simulation.end), invoices=tally.invoices)
