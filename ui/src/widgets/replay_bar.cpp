#include "widgets/replay_bar.hpp"

#include "document/trace_document.hpp"
#include "sessions/replay_controller.hpp"
#include "taskscope/analysis/model.hpp"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QToolButton>

namespace taskscope::ui {

namespace {

constexpr int sliderSteps = 10'000;

QToolButton* button(QWidget* parent, const QString& text, const QString& tip) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(tip);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    return b;
}

/// A button with the style's own icon (every platform draws it; no font glyph needed).
QToolButton* iconButton(QWidget* parent, QStyle::StandardPixmap icon, const QString& tip) {
    auto* b = new QToolButton(parent);
    b->setIcon(parent->style()->standardIcon(icon));
    b->setToolTip(tip);
    return b;
}

} // namespace

const std::vector<double>& ReplayBar::speeds() {
    static const std::vector<double> all{0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0};
    return all;
}

ReplayBar::ReplayBar(ReplayController* replay, TraceDocument* document, QWidget* parent)
    : QWidget(parent)
    , m_replay(replay)
    , m_document(document) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->setSpacing(4);
    // Narrow enough for the middle of a 1280-pixel window between both docks: no title
    // (the playhead and the buttons say what this is), a slider that may shrink.
    auto* rewind = iconButton(this, QStyle::SP_MediaSkipBackward, tr("Back to the start (Home)"));
    m_play = iconButton(this, QStyle::SP_MediaPlay, tr("Play or pause (Space)"));
    m_play->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    m_speed = new QComboBox(this);
    for (const double s : speeds()) {
        m_speed->addItem(QStringLiteral("%1×").arg(s), s);
    }
    m_speed->setCurrentIndex(3);
    m_speed->setToolTip(tr("Playback speed: trace time per real second"));
    auto* nextPoll = button(this, tr("Next poll"), tr("Step to the next poll (N)"));
    auto* nextWake = button(this, tr("Next wake"), tr("Step to the next wake (K)"));
    auto* nextSteal = button(this, tr("Next steal"), tr("Step to the next steal (L)"));
    m_position = new QSlider(Qt::Horizontal, this);
    m_position->setRange(0, sliderSteps);
    m_position->setToolTip(tr("Drag to move the playhead"));
    m_position->setMinimumWidth(90);
    m_time = new QLabel(this);
    m_time->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_step = new QLabel(this);
    // Its text never moves the buttons or squeezes the slider: it gets what room is left
    // and is elided to it.
    m_step->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_step->setMinimumWidth(0);
    auto* close = iconButton(this, QStyle::SP_TitleBarCloseButton, tr("End the replay"));

    layout->addWidget(rewind);
    layout->addWidget(m_play);
    layout->addWidget(m_speed);
    layout->addWidget(nextPoll);
    layout->addWidget(nextWake);
    layout->addWidget(nextSteal);
    layout->addWidget(m_position, 2);
    layout->addWidget(m_time);
    layout->addWidget(m_step, 3);
    layout->addWidget(close);

    rewind->setShortcut(Qt::Key_Home);
    nextPoll->setShortcut(Qt::Key_N);
    nextWake->setShortcut(Qt::Key_K);
    nextSteal->setShortcut(Qt::Key_L);
    for (QToolButton* b : {rewind, nextPoll, nextWake, nextSteal, close}) {
        b->setAutoRaise(false);
    }

    connect(rewind, &QToolButton::clicked, replay, &ReplayController::rewind);
    connect(m_play, &QToolButton::clicked, replay, &ReplayController::togglePlay);
    connect(nextPoll, &QToolButton::clicked, replay, &ReplayController::stepPoll);
    connect(nextWake, &QToolButton::clicked, replay, &ReplayController::stepWake);
    connect(nextSteal, &QToolButton::clicked, replay, &ReplayController::stepSteal);
    connect(close, &QToolButton::clicked, replay, &ReplayController::close);
    connect(m_speed, &QComboBox::currentIndexChanged, this,
            [this](int) { m_replay->setSpeed(m_speed->currentData().toDouble()); });
    connect(m_position, &QSlider::valueChanged, this, [this](int value) {
        if (m_updating) {
            return;
        }
        const double first = static_cast<double>(m_document->firstNs());
        const double last = static_cast<double>(m_document->lastNs());
        m_replay->seek(static_cast<std::uint64_t>(first + (last - first) * value / sliderSteps));
    });
    fitWidths();
    connect(replay, &ReplayController::moved, this, &ReplayBar::refresh);
    connect(replay, &ReplayController::playingChanged, this, &ReplayBar::refresh);
    refresh();
}

void ReplayBar::refresh() {
    m_updating = true;
    m_play->setText(m_replay->playing() ? tr("Pause") : tr("Play"));
    m_play->setIcon(
        style()->standardIcon(m_replay->playing() ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    const std::uint64_t first = m_document->firstNs();
    const std::uint64_t last = m_document->lastNs();
    const std::uint64_t at = std::clamp(m_replay->positionNs(), first, std::max(first, last));
    if (last > first) {
        m_position->setValue(static_cast<int>(static_cast<double>(at - first) /
                                              static_cast<double>(last - first) * sliderSteps));
    }
    m_time->setText(m_replay->positionText());
    m_stepText = m_replay->lastStep();
    showStep();
    m_updating = false;
}

void ReplayBar::fitWidths() {
    // Fixed widths for what changes text, in the font in use (presentation mode enlarges
    // it): the playhead's time never loses digits and Play/Pause never moves its neighbours.
    const QString shown = m_play->text();
    m_play->setMinimumWidth(0);
    m_play->setMaximumWidth(QWIDGETSIZE_MAX);
    m_play->setText(tr("Pause")); // the wider word
    m_play->setFixedWidth(m_play->sizeHint().width());
    m_play->setText(shown);
    m_time->setFixedWidth(m_time->fontMetrics().horizontalAdvance(QStringLiteral("000.000 ms")) +
                          8);
}

void ReplayBar::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange) {
        fitWidths();
        showStep();
    }
}

void ReplayBar::showStep() {
    m_step->setText(
        m_step->fontMetrics().elidedText(m_stepText, Qt::ElideRight, std::max(0, m_step->width())));
    m_step->setToolTip(m_stepText);
}

void ReplayBar::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    showStep();
}

} // namespace taskscope::ui
