// A video consultation: join window, waiting room (the practitioner admits the patient), video,
// mute, camera off, hang up, and a chat that is not kept anywhere.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { endpoints, type TeleconsultInfo } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage } from '../i18n';
import { formatLongDateTime, formatTime } from '../i18n/format';
import { CallClient, type CallState } from '../teleconsult/call';
import { useLoad } from '../useLoad';

export function TeleconsultPage() {
  const { t } = useTranslation();
  const { appointmentId = '' } = useParams();
  return <RequireLogin title={t('teleconsult.title')}>{() => <Teleconsult appointmentId={appointmentId} />}</RequireLogin>;
}

function Video({ stream, muted, label, testId }: { stream: MediaStream | undefined; muted: boolean; label: string; testId: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== (stream ?? null)) ref.current.srcObject = stream ?? null;
  }, [stream]);
  return (
    <figure className="call__video">
      <video ref={ref} autoPlay playsInline muted={muted} data-testid={testId} aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function Teleconsult({ appointmentId }: { appointmentId: string }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [info] = useLoad((signal) => endpoints.teleconsultInfo(appointmentId, signal), `teleconsult/${appointmentId}`);
  const [call, setCall] = useState<CallState | undefined>(undefined);
  const [local, setLocal] = useState<MediaStream | undefined>(undefined);
  const [joinError, setJoinError] = useState<unknown>(undefined);
  const [audio, setAudio] = useState(true);
  const [video, setVideo] = useState(true);
  const [draft, setDraft] = useState('');
  const client = useRef<CallClient | undefined>(undefined);

  useEffect(() => () => client.current?.hangUp(), []);

  const join = async (data: TeleconsultInfo) => {
    if (!data.ice) return;
    setJoinError(undefined);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      setLocal(stream);
      const c = new CallClient(appointmentId, data.ice, stream, setCall);
      client.current = c;
      c.start();
    } catch (error) {
      setJoinError(error instanceof Error && error.name === 'NotAllowedError' ? new Error(t('teleconsult.mediaRefused')) : error);
    }
  };

  const toggleAudio = () => {
    client.current?.setMedia(!audio, video);
    setAudio(!audio);
  };
  const toggleVideo = () => {
    client.current?.setMedia(audio, !video);
    setVideo(!video);
  };
  const sendChat = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (text === '') return;
    client.current?.chat(text);
    setDraft('');
  };

  if (info.state === 'loading') return <Page title={t('teleconsult.title')}><p className="muted" role="status">{t('app.loading')}</p></Page>;
  if (info.state === 'error') return <Page title={t('teleconsult.title')}><ErrorNotice error={info.error} /></Page>;
  const data = info.data;
  const zone = data.timeZone;
  const host = data.role !== 'patient';

  return (
    <Page title={t('teleconsult.title')} className="call">
      <p className="lead">{t('teleconsult.when', { when: formatLongDateTime(data.start, lang, zone) })}</p>
      <p className="muted">{t('teleconsult.window', { opens: formatTime(data.opensAt, lang, zone), closes: formatTime(data.closesAt, lang, zone) })}</p>

      {!call ? (
        data.refusal ? (
          <p className="notice notice--info" data-testid="call-refusal">{t(`teleconsult.refusal.${data.refusal}`)}</p>
        ) : (
          <div className="notice notice--info">
            <p>{t('teleconsult.before')}</p>
            <button type="button" className="button button--primary" onClick={() => void join(data)}>
              {t('teleconsult.join')}
            </button>
          </div>
        )
      ) : null}
      {joinError ? <ErrorNotice error={joinError} /> : null}

      {call ? (
        <div aria-live="polite">
          {call.phase === 'connecting' ? <p role="status">{t('teleconsult.connecting')}</p> : null}
          {call.phase === 'waiting' ? <p className="notice notice--info" role="status" data-testid="waiting-room">{t('teleconsult.waiting')}</p> : null}
          {call.phase === 'ended' ? (
            <p className="notice notice--info" role="status" data-testid="call-ended">{t(`teleconsult.ended.${call.endReason ?? 'left'}`)}</p>
          ) : null}
          {call.error ? <p className="notice notice--error" role="alert">{t(`teleconsult.errors.${call.error}`, { defaultValue: t('teleconsult.errors.generic') })}</p> : null}
        </div>
      ) : null}

      {call && host && call.phase !== 'ended' ? (
        <section className="call__waiting" aria-labelledby="waiting-title">
          <h2 id="waiting-title">{t('teleconsult.waitingRoom')}</h2>
          {call.waiting.length === 0 ? (
            <p className="muted">{t('teleconsult.nobodyWaiting')}</p>
          ) : (
            <ul className="call__waiting-list">
              {call.waiting.map((w) => (
                <li key={w.peerId}>
                  <span>{w.name}</span>{' '}
                  <button type="button" className="button button--primary" data-testid="admit" onClick={() => client.current?.admit(w.peerId)}>
                    {t('teleconsult.admit', { name: w.name })}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}

      {call && call.phase !== 'ended' ? (
        <>
          <div className="call__videos">
            <Video stream={local} muted label={t('teleconsult.you')} testId="local-video" />
            {call.peers.map((p) => (
              <Video key={p.peerId} stream={p.stream} muted={false} label={`${p.name}${p.audio ? '' : ` — ${t('teleconsult.peerMuted')}`}`} testId="remote-video" />
            ))}
          </div>
          <div className="call__controls" role="toolbar" aria-label={t('teleconsult.controls')}>
            <button type="button" className="button button--secondary" aria-pressed={!audio} onClick={toggleAudio}>
              {audio ? t('teleconsult.mute') : t('teleconsult.unmute')}
            </button>
            <button type="button" className="button button--secondary" aria-pressed={!video} onClick={toggleVideo}>
              {video ? t('teleconsult.cameraOff') : t('teleconsult.cameraOn')}
            </button>
            <button type="button" className="button button--danger" onClick={() => client.current?.hangUp()}>
              {t('teleconsult.hangUp')}
            </button>
          </div>
          {call.phase === 'in_call' ? (
            <section className="call__chat" aria-labelledby="chat-title">
              <h2 id="chat-title">{t('teleconsult.chat')}</h2>
              <p className="muted">{t('teleconsult.chatNotKept')}</p>
              <ol className="call__chat-lines" data-testid="chat-lines">
                {call.chat.map((line, i) => (
                  <li key={i} className={line.mine ? 'call__chat-line call__chat-line--mine' : 'call__chat-line'}>
                    <strong>{line.mine ? t('teleconsult.you') : line.name}</strong> <time dateTime={line.at}>{formatTime(line.at, lang, zone)}</time>
                    <p>{line.text}</p>
                  </li>
                ))}
              </ol>
              <form className="call__chat-form" onSubmit={sendChat}>
                <label htmlFor="chat-input">{t('teleconsult.message')}</label>
                <input id="chat-input" value={draft} maxLength={2000} onChange={(e) => setDraft(e.target.value)} autoComplete="off" />
                <button type="submit" className="button button--secondary">{t('teleconsult.send')}</button>
              </form>
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
