import './base.css';
import './packages.css';
